import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BENCHMARKS } from '../../bench/run.ts';
import { parseEndToEndLatency } from '../../bench/support/java-end-to-end.ts';
import { parseProducerPerformance } from '../../bench/support/java-producer.ts';
import { tesseractCli } from '../../bench/support/ocr-pages.ts';
import { testKafka } from '../support/kafka.ts';

/**
 * Every benchmark runs end to end with tiny counts (BENCH_SIZE=smoke) through bench/run.ts and
 * reports its setup, figures and ratios. Nothing here checks a speed: tests never time things.
 */

const root = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

describe('benchmarks', () => {
  it('all run with tiny counts and report setup, figures and ratios against their references', async () => {
    const { env } = testKafka();
    const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-smoke-'));
    dirs.push(dir);
    const out = join(dir, 'RESULTS.md');
    const { code, output } = await run(['bench/run.ts', '--out', out], { ...env, BENCH_SIZE: 'smoke' });
    expect(code, output.slice(-3000)).toBe(0);
    const results = await readFile(out, 'utf8');
    for (const name of BENCHMARKS) {
      expect(results).toContain(`\`bench/${name}.ts\``);
    }
    expect(results).not.toContain('failed');
    // The references really ran in the same run: their own figures are in the report.
    expect(results).toMatch(/\| Java ProducerPerformance \| [\d,.]+ events\/s \|/);
    expect(results).toMatch(/\| Java EndToEndLatency p50 \(one hop\) \| [\d,.]+ ms \|/);
    expect(results).toMatch(/\| CPU bound \(hash \+ encrypt only\) \| [\d,.]+ entries\/s \|/);
    expect(results).toMatch(/\| mix JSON\.stringify \| [\d,.]+ ops\/s \|/);
    expect(results).toMatch(/\| group reset \(Java ConsumerGroupCommand, wall\) \| [\d,.]+ ms \|/);
    expect(results).toMatch(/hub \/ Java producer \(events\/s\) \| [\d,.]+ % \(target >= 70 %/);
    expect(results).toMatch(/\| in-process push \(reference\), 100 callers: calls\/s \| [\d,.]+ calls\/s \|/);
    expect(results).toMatch(/\| charts\/s, cold start per chart \| [\d,.]+ charts\/s \|/);
    // The OCR reference runs where the tesseract CLI is installed (scripts/system-deps.sh) and says so where not.
    expect(results).toMatch(
      tesseractCli()
        ? /\| OCR pages\/s, tesseract CLI, one process for all pages \| [\d,.]+ pages\/s \|/
        : /reference missing: the tesseract CLI is not installed/,
    );
    // Memory measures README's first command, tributary up, under load through its ingress.
    expect(results).toMatch(/\| tributary up under ingress load \(peak\) \| [\d,.]+ MiB \|/);
    expect(results).toMatch(/\| commands answered by the ERP connector \| 50 results \|/);
    expect(results).toMatch(/- Machine: \d+ cores/);
    // Each benchmark prints its setup when it runs.
    expect(output).toContain('acks: all (-1)');
    expect(output).toContain('partitions: 3');
  }, 300_000);

  it('lists a script for every benchmark it runs', () => {
    for (const name of BENCHMARKS) expect(existsSync(join(root, 'bench', `${name}.ts`)), name).toBe(true);
    expect(new Set(BENCHMARKS).size).toBe(BENCHMARKS.length);
  });

  it('reads the summaries of Kafka’s own tools', () => {
    // Lines as ProducerPerformance and EndToEndLatency 4.1.2 print them.
    const producer = parseProducerPerformance(
      'noise\n2000 records sent, 4514.7 records/sec (4.41 MB/sec), 62.51 ms avg latency, 289.00 ms max latency, 63 ms 50th, 74 ms 95th, 85 ms 99th, 86 ms 99.9th.\n',
    );
    expect(producer).toMatchObject({
      records: 2000,
      recordsPerSec: 4514.7,
      mibPerSec: 4.41,
      p50Ms: 63,
      p99Ms: 85,
    });
    expect(parseProducerPerformance('Exception in thread "main"')).toBeUndefined();
    const e2e = parseEndToEndLatency(
      '0\t405.12491\nAvg latency: 14.8124 ms\nPercentiles: 50th = 7, 99th = 142, 99.9th = 405\n',
    );
    expect(e2e).toMatchObject({ avgMs: 14.8124, p50Ms: 7, p99Ms: 142 });
  });
});
