import { randomBytes } from 'node:crypto';
import { silentLogger } from '../core/logger.ts';
import { createHubContext, createKafka, ensureTopic, kafkaConfigSchema } from '../platform/index.ts';
import { linesForSize, publishLikeAConnector } from './ingest.ts';
import { benchBroker } from './support/broker.ts';
import { salesOrderChanged } from './support/events.ts';
import { type HubProcess, startHubProcess } from './support/hub-process.ts';
import { peakRssMiB, runJavaProducer } from './support/java-producer.ts';
import { type BenchResult, isEntryPoint, runAsMain } from './support/report.ts';
import { smokeRun } from './support/stats.ts';

/**
 * Memory: peak RSS (Linux VmHWM) of `tributary up` (every component, the demo systems) idle and
 * under an ingest load pushed through its HTTP ingress; and of the hub plumbing alone in this
 * process, idle and under the ingest load of bench/ingest.ts. The reference is the peak RSS of
 * Apache Kafka's ProducerPerformance (JVM, -Xmx512m) sending 1 KB records.
 */

/** An ~1 KB sales order command body (`erp.sales-order.upsert`) for a customer the demo ERP has. */
export function salesOrderUpsertBody(i: number, lines = 12): Record<string, unknown> {
  return {
    orderId: `BENCH-${String(i).padStart(8, '0')}`,
    customerId: 'C-1000',
    status: 'open',
    currency: 'EUR',
    netAmount: (lines * 12.5).toFixed(2),
    items: Array.from({ length: lines }, (_, l) => ({
      line: l + 1,
      product: `PRODUCT-${String((i + l) % 997).padStart(6, '0')}-REFERENCE-CODE`,
      quantity: '1.000',
      unitPrice: '12.50',
    })),
  };
}

/**
 * Pushes `count` sales order commands through the hub's ingress, `concurrency` at a time, while
 * sampling the hub's memory; then waits (up to `drainMs`) until the ERP connector answered them.
 */
async function loadThroughIngress(
  hub: HubProcess,
  results: () => Promise<number>,
  count: number,
  concurrency: number,
  drainMs: number,
) {
  const token = await hub.token();
  let next = 0;
  let accepted = 0;
  const refused = new Map<number, number>();
  let sampledPeak = 0;
  const sampler = setInterval(() => {
    hub.memory().then(
      (m) => (sampledPeak = Math.max(sampledPeak, m.rssMiB)),
      () => undefined,
    );
  }, 250);
  const start = performance.now();
  const body0 = JSON.stringify(salesOrderUpsertBody(0));
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < count; i = next++) {
          const res = await fetch(`${hub.ingressUrl}/v1/events/erp.sales-order.upsert`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(salesOrderUpsertBody(i)),
          });
          await res.arrayBuffer();
          if (res.ok) accepted += 1;
          else refused.set(res.status, (refused.get(res.status) ?? 0) + 1);
        }
      }),
    );
    const pushSeconds = (performance.now() - start) / 1000;
    const deadline = Date.now() + drainMs;
    let answered = await results();
    while (answered < accepted && Date.now() < deadline) {
      await sleep(500);
      answered = await results();
    }
    return {
      accepted,
      refused,
      answered,
      pushSeconds,
      totalSeconds: (performance.now() - start) / 1000,
      bodyBytes: Buffer.byteLength(body0),
      sampledPeak,
    };
  } finally {
    clearInterval(sampler);
  }
}

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
  const commands = smoke ? 50 : 5_000;
  const upIdleMs = smoke ? 1_000 : 30_000;
  let up: Awaited<ReturnType<typeof measureUp>>;
  try {
    up = await measureUp(broker.brokers, settings, commands, upIdleMs);
  } catch (err) {
    await broker.stop();
    throw err;
  }
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
      title: 'Memory: peak RSS of tributary up idle and under load, and of the hub plumbing alone',
      setup: {
        brokers: `${broker.brokers.length} (${broker.origin})`,
        'tributary up': `a child process running ${up.components.join(', ')} (README's first command, the demo ERP/CRM/HR systems changing records), its own Redis`,
        'tributary up idle': `${upIdleMs / 1000} s after it printed "ready"`,
        'tributary up load': `${commands} erp.sales-order.upsert commands of ${up.load.bodyBytes} B JSON (12 lines) POSTed to its HTTP ingress, 16 at a time; each becomes a command event, the ERP connector applies it to the demo ERP and publishes the result, every step audited`,
        'plumbing alone': `this benchmark's own Node process: hub context (Kafka clients, catalog, embedded registry, idempotent producer) connected`,
        'plumbing idle': `${idleMs / 1000} s after connecting and one publish`,
        'plumbing load': `${events} ~1 KB Avro events, connector-style (500 per publish, acks=all), as bench/ingest.ts`,
        reference: `ProducerPerformance 4.1.2 (JVM -Xmx512m), ${events} records of 1024 B, --throughput -1`,
        measure: 'Linux VmHWM (peak resident set), MiB',
      },
      figures: [
        { label: 'tributary up idle (peak)', value: up.idle.peakMiB, unit: 'MiB' },
        { label: 'tributary up idle (resident at the end)', value: up.idle.rssMiB, unit: 'MiB' },
        { label: 'tributary up under ingress load (peak)', value: up.loaded.peakMiB, unit: 'MiB' },
        { label: 'commands accepted by the ingress', value: up.load.accepted, unit: 'commands' },
        { label: 'commands answered by the ERP connector', value: up.load.answered, unit: 'results' },
        { label: 'ingress accept rate', value: up.load.accepted / up.load.pushSeconds, unit: 'commands/s' },
        { label: 'Node process before the hub plumbing', value: atStart, unit: 'MiB' },
        { label: 'hub plumbing idle (peak)', value: idle, unit: 'MiB' },
        { label: 'hub plumbing under ingest (peak)', value: loaded, unit: 'MiB' },
        { label: 'plumbing ingest rate while measured', value: events / seconds, unit: 'events/s' },
        { label: 'Java ProducerPerformance (peak)', value: javaPeak, unit: 'MiB' },
      ],
      comparisons: [
        {
          label: 'tributary up under ingress load / Java producer peak RSS',
          ratio: up.loaded.peakMiB / javaPeak,
          cost: true,
          headline: true,
        },
        {
          label: 'tributary up idle / Java producer peak RSS',
          ratio: up.idle.peakMiB / javaPeak,
          cost: true,
        },
        { label: 'hub plumbing under ingest / Java producer peak RSS', ratio: loaded / javaPeak, cost: true },
      ],
      notes: [
        `tributary up load: ${up.load.accepted} accepted${[...up.load.refused].map(([status, n]) => `, ${n} refused with ${status}`).join('')}; pushed in ${up.load.pushSeconds.toFixed(1)} s; ${up.load.answered} answered by the ERP connector after ${up.load.totalSeconds.toFixed(1)} s; largest resident set sampled every 250 ms ${up.load.sampledPeak.toFixed(0)} MiB`,
        'the Redis and Kafka that tributary up uses run in processes of their own and are not counted; the demo systems run inside it and are',
      ],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await ctx.close();
    await broker.stop();
  }
}

/** `tributary up` in a child process: idle, then under load through its ingress. */
async function measureUp(
  brokers: string[],
  settings: ReturnType<typeof kafkaConfigSchema.parse>,
  commands: number,
  idleMs: number,
) {
  const hub = await startHubProcess({ brokers });
  const kafka = createKafka(settings, silentLogger());
  const admin = kafka.admin();
  await admin.connect();
  try {
    await sleep(idleMs);
    const idle = await hub.memory();
    const resultTopic = `${hub.topicPrefix}erp.sales-order.upsert.res`;
    const results = async () =>
      (await admin.fetchTopicOffsets(resultTopic)).reduce((sum, p) => sum + Number(p.high), 0);
    const load = await loadThroughIngress(hub, results, commands, 16, 180_000);
    const loaded = await hub.memory();
    return { components: hub.components, idle, loaded, load };
  } finally {
    await admin.disconnect();
    await hub.stop();
  }
}

if (isEntryPoint(import.meta)) await runAsMain(benchMemory);
