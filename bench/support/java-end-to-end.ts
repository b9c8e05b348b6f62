import { spawn } from 'node:child_process';
import { ensureKafkaJars } from '../../kit/kafka/index.ts';

/** What Apache Kafka's EndToEndLatency tool reports. */
export interface JavaEndToEndResult {
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  line: string;
}

/** Parses EndToEndLatency's output; undefined when its summary is missing. */
export function parseEndToEndLatency(output: string): JavaEndToEndResult | undefined {
  const avg = /Avg latency: ([\d.]+) ms/.exec(output);
  const pct = /Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)/.exec(output);
  if (!avg || !pct) return undefined;
  return {
    avgMs: Number(avg[1]),
    p50Ms: Number(pct[1]),
    p99Ms: Number(pct[2]),
    line: `${avg[0]}; ${pct[0]}`,
  };
}

/**
 * Runs `org.apache.kafka.tools.EndToEndLatency` from the kit's kafka-tools jar: one record at a
 * time is produced (acks=all) and consumed back before the next, on a topic it creates.
 */
export async function runJavaEndToEnd(options: {
  brokers: string[];
  topic: string;
  records: number;
  recordSize: number;
}): Promise<JavaEndToEndResult> {
  const libs = await ensureKafkaJars();
  const args = [
    '-Xmx256m',
    '-cp',
    `${libs}/*`,
    'org.apache.kafka.tools.EndToEndLatency',
    options.brokers.join(','),
    options.topic,
    String(options.records),
    'all',
    String(options.recordSize),
  ];
  const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const result = parseEndToEndLatency(out);
  if (code !== 0 || !result)
    throw new Error(`EndToEndLatency failed (exit ${code}): ${out.trim().slice(-2000)}`);
  return result;
}
