import { percentile } from './stats.ts';

/** What `concurrentCalls` measured at one concurrency. */
export interface CallerLoad {
  callers: number;
  calls: number;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** The first error, for the printed notes. */
  firstError?: string;
}

/**
 * `callers` closed-loop callers, each calling `call(caller, n)` again as soon as its previous call
 * returned, until `durationMs` is over (calls already started finish and count). Latency is per
 * call; calls/s is the completed calls over the wall time from the first start to the last end.
 */
export async function concurrentCalls(
  callers: number,
  durationMs: number,
  call: (caller: number, n: number) => Promise<unknown>,
): Promise<CallerLoad> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const until = start + durationMs;
  const loop = async (caller: number) => {
    for (let n = 0; performance.now() < until; n += 1) {
      const t = performance.now();
      try {
        await call(caller, n);
        latencies.push(performance.now() - t);
      } catch (err) {
        errors += 1;
        firstError ??= (err as Error).message?.slice(0, 300) ?? String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: callers }, (_, caller) => loop(caller)));
  const seconds = (performance.now() - start) / 1000;
  return {
    callers,
    calls: latencies.length,
    callsPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors,
    ...(firstError ? { firstError } : {}),
  };
}
