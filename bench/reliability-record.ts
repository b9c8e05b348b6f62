import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTally, type TallyCounts, tallyLine } from '../test/reliability/tally.ts';

/**
 * The reliability part of bench/RESULTS.md: the reliability suite's tally and the soak's figures.
 * `npm run soak` writes it between two markers; `npm run bench` rewrites the rest of the file and
 * keeps this section as it was (it is not a benchmark and takes longer than the bench budget).
 */
export const SECTION_START = '<!-- reliability: written by npm run soak (bench/soak.ts) -->';
export const SECTION_END = '<!-- reliability: end -->';

/** What one run of the reliability suite (vitest over test/reliability) gave. */
export interface SuiteOutcome {
  exitCode: number;
  seconds: number;
  tally: TallyCounts;
  files: string[];
}

/** Runs `vitest run test/reliability` as a child with its own tally folder and reads the tally. */
export async function runReliabilitySuite(root: string): Promise<SuiteOutcome> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-tally-'));
  const started = performance.now();
  try {
    const exitCode = await new Promise<number>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'test/reliability'],
        { cwd: root, stdio: 'inherit', env: { ...process.env, TRIBUTARY_TALLY_DIR: dir } },
      );
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    const { total, files } = readTally(dir);
    return { exitCode, seconds: (performance.now() - started) / 1000, tally: total, files };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Puts `body` between the markers of `text` (appended at the end when the markers are missing). */
export function withSection(text: string, body: string): string {
  const block = `${SECTION_START}\n${body.trim()}\n${SECTION_END}`;
  const start = text.indexOf(SECTION_START);
  const end = text.indexOf(SECTION_END);
  if (start >= 0 && end > start) return text.slice(0, start) + block + text.slice(end + SECTION_END.length);
  return `${text.trimEnd()}\n\n${block}\n`;
}

/** The section of `text` between the markers, markers excluded; undefined when absent. */
export function sectionOf(text: string): string | undefined {
  const start = text.indexOf(SECTION_START);
  const end = text.indexOf(SECTION_END);
  if (start < 0 || end <= start) return undefined;
  return text.slice(start + SECTION_START.length, end).trim();
}

/** Carries the reliability section of the old RESULTS.md into a newly rendered one. */
export function keepSection(oldText: string | undefined, newText: string): string {
  const kept = oldText === undefined ? undefined : sectionOf(oldText);
  return kept === undefined ? newText : withSection(newText, kept);
}

/** Writes `body` as the reliability section of the results file at `path`. */
export async function writeSection(path: string, body: string): Promise<void> {
  const old = await readFile(path, 'utf8').catch(() => '# Benchmark results\n');
  await writeFile(path, withSection(old, body));
}

/** Markdown lines for the suite's outcome. */
export function suiteLines(suite: SuiteOutcome): string[] {
  return [
    '### Reliability suite (`vitest run test/reliability`, also part of `npm test`)',
    '',
    `- ${suite.exitCode === 0 ? 'passed' : `**failed** (exit code ${suite.exitCode})`} in ${Math.round(suite.seconds)} s`,
    `- ${tallyLine(suite.tally)}`,
    `- files: ${suite.files.join(', ')}`,
  ];
}
