import { randomBytes } from 'node:crypto';
import { createHubContext, ensureTopic, kafkaConfigSchema } from '../platform/index.ts';
import { linesForSize, publishLikeAConnector } from './ingest.ts';
import { benchBroker } from './support/broker.ts';
import { salesOrderChanged } from './support/events.ts';
import { peakRssMiB, runJavaProducer } from './support/java-producer.ts';
import { type BenchResult, isEntryPoint, runAsMain } from './support/report.ts';
import { smokeRun } from './support/stats.ts';

/**
 * Memory: peak RSS (Linux VmHWM) of a hub process, idle with its plumbing connected and then
 * under the ingest load of bench/ingest.ts, against the peak RSS of Apache Kafka's
 * ProducerPerformance (JVM, -Xmx512m) sending the same number of 1 KB records.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the memory benchmark in this process (bench/run.ts gives each benchmark its own). */
export async function benchMemory(): Promise<BenchResult> {
  const started = performance.now();
  const smoke = smokeRun();
  const events = smoke ? 1_000 : 100_000;
  const idleMs = smoke ? 200 : 10_000;
  const broker = await benchBroker();
  const id = randomBytes(4).toString('hex');
  const atStart = peakRssMiB('self');
  if (atStart === undefined) {
    await broker.stop();
    throw new Error('peak RSS needs /proc (Linux)');
  }
  const settings = kafkaConfigSchema.parse({ brokers: broker.brokers, clientId: `bench-memory-${id}` });
  const ctx = await createHubContext({
    kafkaSettings: settings,
    schemaLogTopic: `_tributary.schemas.bench-${id}`,
  });
  try {
    const topic = `bench.memory.${id}`;
    await ensureTopic({ kafka: ctx.kafka, topic, partitions: 3 });
    const { lines } = await linesForSize(ctx, 1024);
    await ctx.producer.publish(topic, [salesOrderChanged(0, lines)]);
    await sleep(idleMs);
    const idle = peakRssMiB('self') ?? Number.NaN;
    const seconds = await publishLikeAConnector(ctx, topic, events, 500, lines);
    const loaded = peakRssMiB('self') ?? Number.NaN;
    const java = await runJavaProducer({
      brokers: broker.brokers,
      topic: `bench.memory.java.${id}`,
      records: events,
      recordSize: 1024,
    });
    const javaPeak = java.peakRssMiB ?? Number.NaN;
    return {
      name: 'memory',
      title: 'Memory: peak RSS of a hub process idle and under ingest',
      setup: {
        brokers: `${broker.brokers.length} (${broker.origin})`,
        process: `this benchmark's own Node process: hub context (kafkajs client, catalog, embedded registry, idempotent producer) connected`,
        idle: `${idleMs / 1000} s after connecting and one publish`,
        load: `${events} ~1 KB Avro events, connector-style (500 per publish, acks=all), as bench/ingest.ts`,
        reference: `ProducerPerformance 4.1.2 (JVM -Xmx512m), ${events} records of 1024 B, --throughput -1`,
        measure: 'Linux VmHWM (peak resident set), MiB',
      },
      figures: [
        { label: 'Node process before the hub plumbing', value: atStart, unit: 'MiB' },
        { label: 'hub process idle (peak)', value: idle, unit: 'MiB' },
        { label: 'hub process under ingest (peak)', value: loaded, unit: 'MiB' },
        { label: 'ingest rate while measured', value: events / seconds, unit: 'events/s' },
        { label: 'Java ProducerPerformance (peak)', value: javaPeak, unit: 'MiB' },
      ],
      comparisons: [
        { label: 'hub under ingest / Java producer peak RSS', ratio: loaded / javaPeak, cost: true },
      ],
      notes: [
        'not yet `tributary up` with every component: that needs Redis and the demo systems; this is the hub plumbing every component shares, under the ingest load',
      ],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await ctx.close();
    await broker.stop();
  }
}

if (isEntryPoint(import.meta)) await runAsMain(benchMemory);
