/** The p-th percentile (0..100) of `values` by nearest rank; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Milliseconds since `start` (a process.hrtime.bigint() reading). */
export function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Runs `op` repeatedly for about `ms` milliseconds (after a warm-up of a tenth of that) and
 * returns operations per second. Calls are batched to keep the clock out of the measurement.
 */
export function opsPerSecond(op: () => unknown, ms: number): number {
  const warmUntil = performance.now() + ms / 10;
  while (performance.now() < warmUntil) for (let i = 0; i < 100; i += 1) op();
  let count = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 100; i += 1) op();
    count += 100;
    now = performance.now();
  }
  return (count * 1000) / (now - start);
}

/** Whether the run is a quick check (BENCH_SIZE=smoke) rather than a real measurement. */
export function smokeRun(): boolean {
  return process.env.BENCH_SIZE === 'smoke';
}
