import { Worker } from 'node:worker_threads';
import { HubError } from '../core/errors.ts';

/**
 * Event-loop stall guard. kafkajs 2.2.4 has had consumer fetch loops that restart without ever
 * yielding (kafkajs#1384, #1387): the loop then starves every timer, so no timeout, heartbeat
 * or health check of the process itself can fire and it hangs for good. A worker thread has an
 * event loop of its own: it watches a heartbeat the main thread writes every second and, when
 * the heartbeat is older than `stallMs`, writes why to stderr and ends the whole process with
 * SIGKILL, so its supervisor (systemd, Kubernetes, `tributary up` under a service manager, a
 * test runner) restarts it. Records are committed only after their effect, so a restart
 * re-delivers what was in flight, as after any crash.
 */

export interface StallWatchdog {
  /** Stops watching (the worker ends; the process is left alone). */
  stop(): Promise<void>;
}

const WORKER = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const beat = new Float64Array(workerData.buffer);
const started = Date.now();
setInterval(() => {
  const last = beat[0] || started;
  const stalled = Date.now() - last;
  if (stalled > workerData.stallMs) {
    try {
      writeSync(2, JSON.stringify({ level: 60, time: Date.now(), component: 'stall-watchdog', name: workerData.name,
        stalledMs: stalled, msg: 'the event loop has not turned for ' + stalled + ' ms (limit ' + workerData.stallMs +
        ' ms): ending the process so it is restarted' }) + '\\n');
    } finally {
      process.kill(process.pid, 'SIGKILL');
    }
  }
}, Math.min(1000, workerData.stallMs / 4));
`;

/** Reads the stall limit: TRIBUTARY_STALL_EXIT_MS (0 turns the guard off), default 60 s. */
export function stallLimitFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.TRIBUTARY_STALL_EXIT_MS;
  if (raw === undefined || raw === '') return 60_000;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0 || (ms > 0 && ms < 2_000))
    throw new HubError(
      'CONFIG_INVALID',
      `TRIBUTARY_STALL_EXIT_MS must be 0 (off) or a whole number of milliseconds >= 2000, got "${raw}"`,
      { where: { setting: 'TRIBUTARY_STALL_EXIT_MS' } },
    );
  return ms;
}

/** Starts the guard for this process; `stallMs` 0 returns a guard that watches nothing. */
export function startStallWatchdog(options: { stallMs: number; name: string }): StallWatchdog {
  if (options.stallMs === 0) return { stop: async () => undefined };
  const buffer = new SharedArrayBuffer(8);
  const beat = new Float64Array(buffer);
  beat[0] = Date.now();
  const timer = setInterval(
    () => {
      beat[0] = Date.now();
    },
    Math.min(1000, options.stallMs / 4),
  );
  timer.unref();
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { buffer, stallMs: options.stallMs, name: options.name },
  });
  worker.unref();
  return {
    async stop() {
      clearInterval(timer);
      await worker.terminate();
    },
  };
}
