import { randomBytes, randomUUID } from 'node:crypto';
import {
  createDeadLetterWriter,
  createEventConsumer,
  createEventProducer,
  createHubContext,
  createMemoryIdempotencyStore,
  type EventConsumer,
  type EventProducer,
  ensureTopic,
  type HubContext,
  kafkaConfigSchema,
} from '../platform/index.ts';
import type { HubEvent } from '../schemas/index.ts';
import { benchBroker } from './support/broker.ts';
import { sampleEvents } from './support/events.ts';
import { runJavaEndToEnd } from './support/java-end-to-end.ts';
import { type BenchResult, isEntryPoint, runAsMain } from './support/report.ts';
import { percentile, smokeRun } from './support/stats.ts';

/**
 * Consume -> process -> produce: a no-op processor built like the hub's processors (platform
 * consumer with idempotency and DLQ, one event at a time per partition, result published
 * through the platform producer). Throughput on a backlog; end-to-end latency (input publish
 * to output consumed) under a steady load below that throughput.
 */

const SCHEMA = 'tributary.crm.ContactChanged';

function contactEvent(n: number): HubEvent<unknown> {
  const template = sampleEvents().find((s) => s.schema === SCHEMA)!.event as HubEvent<
    Record<string, unknown>
  >;
  const subject = `003Dn${String(n).padStart(13, '0')}`;
  return {
    envelope: { ...template.envelope, id: randomUUID(), subject, time: Date.now() },
    data: { ...template.data, contactId: subject },
  };
}

/** The no-op processor: forwards each event as a new event caused by it (time kept for latency). */
function noopProcessor(
  ctx: HubContext,
  input: string,
  output: string,
  partitions: number,
  onDone: () => void,
) {
  return createEventConsumer({
    kafka: ctx.kafka,
    serde: ctx.serde,
    groupId: `bench-noop-${randomBytes(4).toString('hex')}`,
    topics: [input],
    deadLetters: createDeadLetterWriter({ producer: ctx.producer }),
    idempotency: createMemoryIdempotencyStore(),
    concurrency: partitions,
    maxWaitTimeMs: 100,
    handler: async (event) => {
      const envelope = {
        ...event.envelope,
        id: randomUUID(),
        causationId: event.envelope.id,
        source: 'processor.noop',
      };
      await ctx.producer.publish(output, [{ envelope, data: event.data }]);
      onDone();
    },
  });
}

async function publishBacklog(producer: EventProducer, topic: string, events: number) {
  for (let sent = 0; sent < events; sent += 500) {
    const batch = Array.from({ length: Math.min(500, events - sent) }, (_, i) => contactEvent(sent + i));
    await producer.publish(topic, batch);
  }
}

/** Runs the benchmark on a dedicated broker (or KAFKA_BROKERS). */
export async function benchConsumeProcessProduce(): Promise<BenchResult> {
  const started = performance.now();
  const smoke = smokeRun();
  const backlog = smoke ? 300 : 20_000;
  const latencySeconds = smoke ? 1 : 20;
  const partitions = 3;
  const broker = await benchBroker();
  const id = randomBytes(4).toString('hex');
  const settings = kafkaConfigSchema.parse({ brokers: broker.brokers, clientId: `bench-cpp-${id}` });
  const ctx = await createHubContext({
    kafkaSettings: settings,
    schemaLogTopic: `_tributary.schemas.bench-${id}`,
  });
  const feeder = createEventProducer({ kafka: ctx.kafka, serde: ctx.serde });
  const consumers: EventConsumer[] = [];
  try {
    const input = `bench.cpp.in.${id}`;
    const output = `bench.cpp.out.${id}`;
    for (const topic of [input, output]) await ensureTopic({ kafka: ctx.kafka, topic, partitions });
    await ctx.producer.start();

    // 1. Throughput: drain a backlog published before the processor starts.
    await publishBacklog(feeder, input, backlog);
    let processed = 0;
    let first = 0;
    let last = 0;
    let drained: () => void = () => {};
    const allDone = new Promise<void>((resolve) => {
      drained = resolve;
    });
    const processor = noopProcessor(ctx, input, output, partitions, () => {
      if (processed === 0) first = performance.now();
      processed += 1;
      last = performance.now();
      if (processed === backlog) drained();
    });
    consumers.push(processor);
    await processor.start();
    await allDone;
    const throughput = backlog / ((last - first) / 1000);

    // 2. Latency: a steady feed at ~a third of that throughput, measured at an output consumer.
    const latencies: number[] = [];
    // The reader reads the output from its start and skips the throughput phase's events: a
    // reader that starts at the end can miss the first fed events while it joins its group.
    const phaseStart = Date.now();
    const reader = createEventConsumer({
      kafka: ctx.kafka,
      serde: ctx.serde,
      groupId: `bench-reader-${id}`,
      topics: [output],
      deadLetters: createDeadLetterWriter({ producer: ctx.producer }),
      concurrency: partitions,
      fromBeginning: true,
      maxWaitTimeMs: 100,
      handler: async (event) => {
        if (event.envelope.time >= phaseStart) latencies.push(Date.now() - event.envelope.time);
      },
    });
    consumers.push(reader);
    await reader.start();
    const tickMs = 20;
    const perTick = Math.max(1, Math.round((throughput / 3) * (tickMs / 1000)));
    const feedRate = (perTick * 1000) / tickMs;
    const feedUntil = Date.now() + latencySeconds * 1000;
    let fed = 0;
    while (Date.now() < feedUntil) {
      const tick = Date.now();
      const batch = Array.from({ length: perTick }, (_, i) => contactEvent(fed + i));
      await feeder.publish(input, batch);
      fed += perTick;
      const wait = tickMs - (Date.now() - tick);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const settleUntil = Date.now() + 30_000;
    while (latencies.length < fed && Date.now() < settleUntil) await new Promise((r) => setTimeout(r, 50));
    const messageSize = (await ctx.serde.encode(input, SCHEMA, contactEvent(0) as never)).length;
    // Reference: Kafka's own end-to-end tool on the same broker (one hop, one record at a time).
    const java = await runJavaEndToEnd({
      brokers: broker.brokers,
      topic: `bench.cpp.java.${id}`,
      records: smoke ? 20 : 2_000,
      recordSize: messageSize,
    });
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const notes =
      latencies.length < fed
        ? [`only ${latencies.length} of ${fed} fed events were seen at the output within 30 s`]
        : [];
    return {
      name: 'consume-process-produce',
      title: 'Consume -> process -> produce: a no-op processor',
      setup: {
        brokers: `${broker.brokers.length} (${broker.origin})`,
        partitions,
        'replication factor': 1,
        'message size': `${messageSize} B Avro (${SCHEMA})`,
        acks: 'all (-1), idempotent producer',
        processor: `platform consumer (concurrency ${partitions}: partitions in parallel, events of a partition one by one), in-memory idempotency, DLQ writer; each event re-published with publish() before its offset is resolved`,
        'throughput phase': `backlog of ${backlog} events published first, then drained`,
        reference: `Apache Kafka EndToEndLatency 4.1.2 (Java): produce one ${messageSize} B record (acks=all), consume it, next; ${smoke ? 20 : 2_000} records, one hop`,
        'latency phase': `${feedRate} events/s for ${latencySeconds} s (batches of ${perTick} every ${tickMs} ms); latency = output consumer receive time - input event time (same clock)`,
      },
      figures: [
        { label: 'no-op processor throughput', value: throughput, unit: 'events/s' },
        { label: 'end-to-end latency p50 (two hops: in -> processor -> out)', value: p50, unit: 'ms' },
        { label: 'end-to-end latency p99 (two hops)', value: p99, unit: 'ms' },
        { label: 'end-to-end latency max', value: Math.max(...latencies), unit: 'ms' },
        { label: 'latency samples', value: latencies.length, unit: 'events' },
        { label: 'Java EndToEndLatency p50 (one hop)', value: java.p50Ms, unit: 'ms' },
        { label: 'Java EndToEndLatency p99 (one hop)', value: java.p99Ms, unit: 'ms' },
      ],
      comparisons: [
        // Latency: ours over theirs, so above 1x means slower. Two hops against one.
        {
          label: 'latency p50, hub two hops / Java one hop',
          ratio: p50 / Math.max(java.p50Ms, 1),
          cost: true,
        },
        {
          label: 'latency p99, hub two hops / Java one hop',
          ratio: p99 / Math.max(java.p99Ms, 1),
          cost: true,
        },
      ],
      notes: [...notes, `EndToEndLatency summary: ${java.line}`],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const c of consumers) await c.close();
    await feeder.close();
    await ctx.close();
    await broker.stop();
  }
}

if (isEntryPoint(import.meta)) await runAsMain(benchConsumeProcessProduce);
