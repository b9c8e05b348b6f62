import { writeFileSync } from 'node:fs';

/**
 * What every benchmark returns: its setup, its figures and its ratios against a reference
 * measured in the same run. bench/run.ts renders RESULTS.md from these.
 */
export interface Figure {
  label: string;
  value: number;
  unit: string;
}

export interface Comparison {
  label: string;
  /** Ours divided by the reference (1 = as fast). */
  ratio: number;
  /** The target for this ratio, when it sets one. */
  target?: number;
  /** A cost such as latency or memory: printed as a multiple (`29x`), lower is better. */
  cost?: boolean;
  /** Shown in the summary of RESULTS.md (every ratio of a benchmark when none is marked). */
  headline?: boolean;
}

export interface BenchResult {
  name: string;
  title: string;
  setup: Record<string, string | number>;
  figures: Figure[];
  comparisons: Comparison[];
  notes: string[];
  seconds: number;
}

/** Rounds a figure for printing: three significant digits, thousands separated. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** A ratio as a percentage with its target, e.g. `83 % (target >= 70 %)`. */
export function formatRatio(comparison: Comparison): string {
  if (comparison.cost) return `${formatNumber(comparison.ratio)}x (lower is better)`;
  const pct = `${formatNumber(comparison.ratio * 100)} %`;
  if (comparison.target === undefined) return pct;
  const met = comparison.ratio >= comparison.target ? 'met' : 'BELOW';
  return `${pct} (target >= ${formatNumber(comparison.target * 100)} %, ${met})`;
}

/** Prints a result the way a person reads it in a terminal. */
export function printResult(result: BenchResult, out: (line: string) => void = console.log): void {
  out(`\n== ${result.title} (${result.name}) ==`);
  out('setup:');
  for (const [key, value] of Object.entries(result.setup)) out(`  ${key}: ${value}`);
  out('figures:');
  for (const f of result.figures) out(`  ${f.label}: ${formatNumber(f.value)} ${f.unit}`);
  if (result.comparisons.length > 0) out('ratios (ours / reference, same run):');
  for (const c of result.comparisons) out(`  ${c.label}: ${formatRatio(c)}`);
  for (const note of result.notes) out(`note: ${note}`);
  out(`took ${formatNumber(result.seconds)} s`);
}

/**
 * Entry point helper for `node bench/<name>.ts`: runs the benchmark, prints it and, when
 * bench/run.ts asks through BENCH_RESULT_FILE, writes the result as JSON for RESULTS.md.
 */
export async function runAsMain(bench: () => Promise<BenchResult>): Promise<void> {
  try {
    const result = await bench();
    printResult(result);
    const file = process.env.BENCH_RESULT_FILE;
    if (file) writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    process.exitCode = 0;
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  }
}

/** True when `meta` is the module node was started with (`node bench/<name>.ts`). */
export function isEntryPoint(meta: ImportMeta): boolean {
  const main = (meta as ImportMeta & { main?: boolean }).main;
  return main ?? meta.filename === process.argv[1];
}
