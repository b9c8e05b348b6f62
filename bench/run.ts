import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepSection } from './reliability-record.ts';
import { benchBroker } from './support/broker.ts';
import { machineInfo } from './support/machine.ts';
import type { BenchResult } from './support/report.ts';
import { type RunOutcome, renderResults } from './support/results-md.ts';

/**
 * Runs every benchmark, each in its own Node process (so memory and JIT state don't leak from
 * one to the next) against one shared broker, then rewrites bench/RESULTS.md.
 *
 *   node bench/run.ts [--only serde,ingest] [--out <file>]
 *
 * BENCH_SIZE=smoke runs tiny counts (a check that everything runs); it never rewrites
 * bench/RESULTS.md unless --out names a file.
 */

// The audit runs before the benchmarks that load the broker: it uses no Kafka, and the disk
// writeback of their data landed in its fsyncs (a recorded run's thread line fell by half).
export const BENCHMARKS = [
  'serde',
  'audit',
  'ingest',
  'consume-process-produce',
  'replay',
  'memory',
  'mcp',
  'media',
] as const;

/** Parts of the issue without a benchmark here, and why (printed into RESULTS.md). */
const MISSING = [
  'Failover under load (issue 8 must-show): `npm run failover`, not part of this run (it starts a three-node cluster); its outcome is in the issue note.',
];

/**
 * What the profiles of these benchmarks showed when they were written (each run re-profiles;
 * see the notes under each benchmark for this run's figures). Update when the code changes.
 */
const READING = [
  "Ingest: the platform producer writes through @platformatic/kafka (platform/producer-client.ts; kafkajs, its client before, is the raw kafkajs line) on a worker thread of its own (platform/thread-sender.ts), and the serde validates and encodes in one pass (schemas/src/strict-writer.ts). The main thread builds and encodes the events (the connector's share: about 12 µs of a 1 KB, 24-item sales order, the serde-alone line) and hands each page to the client's thread; the client line on the main thread shows the difference. A page is sent only after the page before is acknowledged, and that acknowledgement reaches the main thread as a message: while one synchronous loop encoded a whole page (about 5 ms), the message waited, the sends set the pace and the main thread sat idle about 14 % of the time. Encoding (and a connector's mapping) now lets the event loop run every millisecond (core/loop-slices.ts), which kept the main thread about 98 % busy and raised the rate by about a third in the runs that measured it. The main thread stays the limit: the CPU line shows the core share left, which only building and encoding on more threads could use. The Java producer sends pre-made bytes from one thread to its I/O thread and keeps both cores busy; on a warm broker it sends about 75,000 to 105,000 events/s here (55,000 on a fresh one, hence the warm-up before the rounds). The ERP connector line is the real connector (its mapping and change-event ids on rows as its OData service sends them), slower than the built events by the mapping's cost.",
  'Consume -> process -> produce: each event is published and acknowledged (acks=all) before the next event of its partition, so throughput is about partitions / produce round trip; latency adds a consumer fetch and a produce per hop.',
  "Audit below target: the CPU bound is the cheapest form of its two calls (AES-256-GCM with a KeyObject made once and pooled nonces, one-shot SHA-256), about 4.5 µs per entry, most of it Node's cost per call (a cipher object per entry, its buffers) rather than the work on a 175-byte body and an 880-byte entry. An append costs about 10 to 11 µs on one chain: building the entry about 7 to 8 µs (the two calls about 5.5 of them, with the base64 of ciphertext and tag; then the entry's RFC 8785 text and its UTF-8 bytes, the checks of its strings, the entry objects), dropping re-sent ids and moving the head about 1 µs, garbage collection under 1 µs, and the wait for the batch's durable write about 1.2 µs (0.6 ms per 500 entries). Since 2026-12-05 the segment and checkpoint files are opened O_DSYNC: a batch is one write on the thread pool that returns once on disk, instead of a write and an fsync with a turn of the event loop between them, during which a checkpoint's fsync waited for the next batch to be built and then held up its write (scratch runs with checkpoints every 1000: median 11.9 -> 10.5 µs per entry). Two batches in flight hide most of the write (the line below), which the audit consumer cannot do: the platform commits a batch's offsets when its handler returns, and kafkajs hands a partition its next batch only then. The input is what the consumer gets: action events encoded by the hub's serde, each batch decoded just before its append, the decoding's time left out but not the collection of its garbage; records made up front and moved to the old generation by a full GC (the method until 2026-12-05) gave about a fifth more per CPU second. One thread runs all its chains, so on one thread several partitions gain by overlapping their writes only. The audit with threads: N (audit/consumer-threads.ts) runs a group member per thread; the line on worker threads measures that (one per core): it passes one thread's bound by using both cores, and stays below the bound's loop run on as many threads, since the threads share the cores with the writes and garbage collection and spend more CPU per entry. A chain's sealing is sequential (each AAD binds the previous hash), so one chain gains nothing from threads. The line against the bound as measured before (a Buffer key, which costs Node 24 two thrown exceptions per cipher) compares with earlier records.",
  "Group reset: the hub commits the offsets directly, outside the group, as Kafka's tool does (it used to join the group through kafkajs admin.setOffsets and pay the broker's 3 s group.initial.rebalance.delay.ms); the Java tool's wall time includes starting its JVM.",
];

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const load1 = () => Math.round((loadavg()[0] ?? 0) * 100) / 100;

async function runOne(name: string, env: NodeJS.ProcessEnv, dir: string): Promise<RunOutcome> {
  const resultFile = join(dir, `${name}.json`);
  const loadBefore = load1();
  const script = join(import.meta.dirname, `${name}.ts`);
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', script], {
    env: { ...env, BENCH_RESULT_FILE: resultFile },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const loadAfter = load1();
  try {
    const result = JSON.parse(await readFile(resultFile, 'utf8')) as BenchResult;
    return { name, result, loadBefore, loadAfter };
  } catch {
    return { name, error: `exited with ${code} and wrote no result`, loadBefore, loadAfter };
  }
}

/** Runs the selected benchmarks and returns their outcomes; writes RESULTS.md when asked. */
export async function runBenchmarks(): Promise<RunOutcome[]> {
  const started = performance.now();
  const only = option('--only')?.split(',');
  const names = only ?? [...BENCHMARKS];
  const smoke = process.env.BENCH_SIZE === 'smoke';
  const out = option('--out') ?? (smoke ? undefined : join(import.meta.dirname, 'RESULTS.md'));
  const machine = machineInfo();
  const broker = await benchBroker();
  const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-run-'));
  const origin = process.env.KAFKA_BROKERS ? 'KAFKA_BROKERS' : broker.origin;
  const env = {
    ...process.env,
    KAFKA_BROKERS: broker.brokers.join(','),
    BENCH_BROKER_ORIGIN: origin,
    BENCH_BROKER_PIDS: broker.pids().join(','),
  };
  const outcomes: RunOutcome[] = [];
  try {
    for (const name of names) {
      console.log(`\n### bench/${name}.ts (load ${load1()})`);
      outcomes.push(await runOne(name, env, dir));
    }
  } finally {
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  if (out) {
    const text = renderResults({
      date: new Date(),
      machine,
      broker: origin,
      outcomes,
      seconds,
      missing: MISSING,
      reading: READING,
    });
    // The reliability section (written by npm run soak) is not a benchmark: keep it as it was.
    const old = await readFile(out, 'utf8').catch(() => undefined);
    await writeFile(out, keepSection(old, text));
    console.log(`\nwrote ${out}`);
  }
  console.log(`\nall benchmarks: ${Math.round(seconds)} s`);
  return outcomes;
}

if ((import.meta as ImportMeta & { main?: boolean }).main) {
  const outcomes = await runBenchmarks();
  const failed = outcomes.filter((o) => !o.result);
  for (const f of failed) console.error(`bench/${f.name}.ts failed: ${f.error}`);
  process.exitCode = failed.length > 0 ? 1 : 0;
}
