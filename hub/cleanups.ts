import type { Logger } from '../core/logger.ts';

/** Something started that must be stopped: pushed as it starts, run in reverse at shutdown. */
export interface Cleanup {
  what: string;
  run: () => Promise<unknown>;
}

/** Runs the cleanups last in, first out; a failing one is logged and the rest still run. Empties the list. */
export async function unwindCleanups(cleanups: Cleanup[], logger: Logger): Promise<void> {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup.run();
    } catch (err) {
      logger.warn({ err, what: cleanup.what }, 'cleanup failed');
    }
  }
  cleanups.length = 0;
}

/** unwindCleanups, bounded: after `boundMs` the rest is abandoned (and logged), not waited for. */
export async function unwindWithin(
  cleanups: Cleanup[],
  logger: Logger,
  boundMs: number,
): Promise<{ timedOut: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'timeout'>((done) => {
    timer = setTimeout(() => done('timeout'), boundMs);
  });
  const outcome = await Promise.race([unwindCleanups(cleanups, logger).then(() => 'done' as const), bound]);
  clearTimeout(timer);
  if (outcome === 'timeout') logger.error('graceful shutdown exceeded its bound; abandoning the rest');
  return { timedOut: outcome === 'timeout' };
}
