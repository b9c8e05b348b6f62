import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ensureKafkaJars } from '../../kit/kafka/index.ts';

/** The summary line of Apache Kafka's ProducerPerformance. */
export interface JavaProducerResult {
  records: number;
  recordsPerSec: number;
  /** MiB/s as the tool prints it (bytes / 2^20). */
  mibPerSec: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
  p50Ms: number;
  p99Ms: number;
  /** The line itself, for the printed report. */
  line: string;
}

/** Peak resident memory (VmHWM) of a live process in MiB, from /proc (Linux); undefined elsewhere. */
export function peakRssMiB(pid: number | 'self'): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

const summary =
  /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/;

/** Parses ProducerPerformance's final summary out of its output; undefined when absent. */
export function parseProducerPerformance(output: string): JavaProducerResult | undefined {
  const lines = output.split('\n').filter((l) => summary.test(l));
  const line = lines.at(-1);
  const m = line ? summary.exec(line) : null;
  if (!line || !m) return undefined;
  return {
    records: Number(m[1]),
    recordsPerSec: Number(m[2]),
    mibPerSec: Number(m[3]),
    avgLatencyMs: Number(m[4]),
    maxLatencyMs: Number(m[5]),
    p50Ms: Number(m[6]),
    p99Ms: Number(m[8]),
    line: line.trim(),
  };
}

export interface JavaProducerOptions {
  brokers: string[];
  topic: string;
  records: number;
  recordSize: number;
  /** Extra producer properties besides bootstrap.servers, acks=all and enable.idempotence=true. */
  props?: Record<string, string | number>;
}

/**
 * Runs `org.apache.kafka.tools.ProducerPerformance` from the kit's kafka-tools jar (the same
 * jars as the broker) with `--throughput -1`, acks=all and idempotence on.
 */
export async function runJavaProducer(
  options: JavaProducerOptions,
): Promise<JavaProducerResult & { peakRssMiB?: number }> {
  const libs = await ensureKafkaJars();
  const props = {
    'bootstrap.servers': options.brokers.join(','),
    acks: 'all',
    'enable.idempotence': 'true',
    ...options.props,
  };
  const args = [
    '-Xmx512m',
    '-cp',
    `${libs}/*`,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    options.topic,
    '--num-records',
    String(options.records),
    '--record-size',
    String(options.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
  ];
  const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  // Its peak memory, read while it lives (the figure is gone once it exits).
  let peak: number | undefined;
  const watch = setInterval(() => {
    if (child.pid) peak = peakRssMiB(child.pid) ?? peak;
  }, 100);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', () => clearInterval(watch));
    child.once('close', resolve);
  });
  clearInterval(watch);
  const parsed = parseProducerPerformance(out);
  const result = parsed && peak !== undefined ? { ...parsed, peakRssMiB: peak } : parsed;
  if (code !== 0 || !result) {
    throw new Error(`ProducerPerformance failed (exit ${code}): ${`${out}\n${err}`.trim().slice(-2000)}`);
  }
  return result;
}

/** The producer defaults the Java client runs with here (Kafka 4.x), for the printed setup. */
export const javaProducerDefaults =
  'batch.size=16384, linger.ms=5, max.in.flight.requests.per.connection=5, compression none';
