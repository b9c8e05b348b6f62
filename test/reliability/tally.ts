import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/**
 * The reliability suite's tally: every reliability test file adds what it did (faults injected,
 * inputs tried, events checked, events lost) and, when the file ends, prints the sum over the
 * files of this run so far. The last line printed in a run is the run's total:
 *   reliability tally: faults injected N, inputs tried N, events checked N, events lost 0
 *
 * Files run in separate vitest workers, so the counts meet on disk: one JSON file per test file
 * in a folder named after the vitest main process (the workers' parent), so runs never mix.
 */
export interface TallyCounts {
  faultsInjected: number;
  inputsTried: number;
  eventsChecked: number;
  eventsLost: number;
}

export interface Tally {
  /** Adds to this file's counts; `note` says what was done (kept in the JSON for the record). */
  add(counts: Partial<TallyCounts>, note?: string): void;
  /** Writes this file's counts and prints the run's sum so far; call from afterAll. */
  report(): string;
}

const zero = (): TallyCounts => ({ faultsInjected: 0, inputsTried: 0, eventsChecked: 0, eventsLost: 0 });

/** The folder of this run's tally files (shared by the workers of one vitest run). */
export function tallyDir(): string {
  return process.env.TRIBUTARY_TALLY_DIR ?? join(tmpdir(), `tributary-reliability-tally-${process.ppid}`);
}

/** One line summing counts, in the suite's fixed wording. */
export function tallyLine(c: TallyCounts): string {
  return `reliability tally: faults injected ${c.faultsInjected}, inputs tried ${c.inputsTried}, events checked ${c.eventsChecked}, events lost ${c.eventsLost}`;
}

/** Sum of every file's counts written in `dir` so far. */
export function readTally(dir = tallyDir()): { total: TallyCounts; files: string[] } {
  const total = zero();
  const files: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return { total, files };
  }
  for (const name of names.sort()) {
    const entry = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { counts: TallyCounts };
    for (const key of Object.keys(total) as (keyof TallyCounts)[]) total[key] += entry.counts[key] ?? 0;
    files.push(name.replace(/\.json$/, ''));
  }
  return { total, files };
}

/** The tally of one test file; `file` is usually `import.meta.filename`. */
export function createTally(file: string): Tally {
  const counts = zero();
  const notes: string[] = [];
  const name = basename(file).replace(/\.test\.ts$/, '');
  return {
    add(more, note) {
      for (const key of Object.keys(counts) as (keyof TallyCounts)[]) counts[key] += more[key] ?? 0;
      if (note) notes.push(note);
    },
    report() {
      const dir = tallyDir();
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${name}.json`), JSON.stringify({ file: name, counts, notes }, null, 2));
      const { total, files } = readTally(dir);
      const line = `${tallyLine(total)} (${files.length} file(s): ${files.join(', ')})`;
      // Straight to the terminal: vitest would otherwise hold console output of a passing file.
      process.stderr.write(
        `${name}: ${tallyLine(counts)}\n${notes.map((n) => `  - ${n}\n`).join('')}${line}\n`,
      );
      return line;
    },
  };
}
