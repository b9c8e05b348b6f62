import { startStallWatchdog } from '../../platform/stall-watchdog.ts';

/**
 * Every test process runs the event-loop stall guard (vitest setupFiles): a test whose event
 * loop is starved (a kafkajs fetch loop that never yields, kafkajs#1384) cannot reach its own
 * timeout, and would hold the whole run until CI gives up. The guard ends the process instead;
 * vitest reports its file as failed and goes on with the others.
 */
const key = Symbol.for('tributary.test.stall-guard');
const scope = globalThis as { [key]?: true };
if (!scope[key]) {
  scope[key] = true;
  startStallWatchdog({ stallMs: 120_000, name: `vitest ${process.pid}` });
}
