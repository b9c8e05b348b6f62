import { randomBytes } from 'node:crypto';
import { silentLogger } from '../core/logger.ts';
import {
  AVRO_CONTENT_TYPE,
  createHubContext,
  createIdempotentProducer,
  createKafka,
  EventHeaders,
  ensureTopic,
  kafkaConfigSchema,
} from '../platform/index.ts';
import type { HubEvent } from '../schemas/index.ts';
import { createTopicCheckpointStore, replayInto, resetGroupOffsets } from '../topology/replay/index.ts';
import { benchBroker } from './support/broker.ts';
import { sampleEvents } from './support/events.ts';
import { runJavaProducer } from './support/java-producer.ts';
import { runKafkaTool } from './support/java-tool.ts';
import { type BenchResult, isEntryPoint, runAsMain } from './support/report.ts';
import { smokeRun } from './support/stats.ts';

/**
 * Replay: `tributary replay`'s engine (topology/replay replayInto) copying a topic of N events
 * into another, and resetting a consumer group to the earliest offsets (resetGroupOffsets),
 * against Apache Kafka's tools in the same run: ProducerPerformance writing the same number of
 * records of the same size (the broker's write ceiling for a copy) and ConsumerGroupCommand
 * --reset-offsets --to-earliest.
 */

const SCHEMA = 'tributary.crm.ContactChanged';

/** Fills `topic` with `events` framed Avro records as fast as the platform's producer allows. */
async function fill(brokers: string[], topic: string, values: Buffer[], events: number): Promise<void> {
  const settings = kafkaConfigSchema.parse({ brokers, clientId: 'bench-replay-fill' });
  const producer = createIdempotentProducer(createKafka(settings, silentLogger()));
  await producer.connect();
  try {
    for (let sent = 0; sent < events; sent += 2000) {
      const messages = [];
      for (let i = sent; i < Math.min(events, sent + 2000); i += 1) {
        messages.push({
          key: `003Dn${String(i % 100_000).padStart(13, '0')}`,
          value: values[i % values.length]!,
          headers: {
            [EventHeaders.contentType]: AVRO_CONTENT_TYPE,
            [EventHeaders.eventId]: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
            [EventHeaders.eventType]: SCHEMA,
          },
        });
      }
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Runs the replay benchmark on a dedicated broker (or KAFKA_BROKERS). */
export async function benchReplay(): Promise<BenchResult> {
  const started = performance.now();
  const smoke = smokeRun();
  const events = smoke ? 2_000 : 1_000_000;
  const partitions = 3;
  const broker = await benchBroker();
  const id = randomBytes(4).toString('hex');
  const settings = kafkaConfigSchema.parse({ brokers: broker.brokers, clientId: `bench-replay-${id}` });
  const ctx = await createHubContext({
    kafkaSettings: settings,
    schemaLogTopic: `_tributary.schemas.bench-${id}`,
  });
  const admin = ctx.kafka.admin();
  try {
    const source = `bench.replay.src.${id}`;
    const target = `bench.replay.dst.${id}`;
    for (const topic of [source, target]) await ensureTopic({ kafka: ctx.kafka, topic, partitions });
    const template = sampleEvents().find((s) => s.schema === SCHEMA)!.event as HubEvent<unknown>;
    const values = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        ctx.serde.encode(source, SCHEMA, {
          ...template,
          envelope: { ...template.envelope, subject: `s-${i}` },
        } as never),
      ),
    );
    const recordSize = values[0]!.length;
    let t = performance.now();
    await fill(broker.brokers, source, values, events);
    const fillRate = events / ((performance.now() - t) / 1000);

    const checkpoints = createTopicCheckpointStore({
      kafka: ctx.kafka,
      producer: ctx.producer,
      topic: `_tributary.replays.bench-${id}`,
    });
    const result = await replayInto({
      hub: ctx,
      checkpoints,
      topic: source,
      into: target,
      from: { kind: 'earliest' },
      actor: 'bench',
    });
    if (result.written !== events) throw new Error(`replay wrote ${result.written} of ${events} events`);
    const replayRate = result.written / (result.durationMs / 1000);

    const java = await runJavaProducer({
      brokers: broker.brokers,
      topic: `bench.replay.java.${id}`,
      records: events,
      recordSize,
    });

    // A group that has read everything (offsets at the end), reset to the start.
    const groupId = `bench-replay-group-${id}`;
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(source);
    const setEnds = () =>
      admin.setOffsets({
        groupId,
        topic: source,
        partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
      });
    await setEnds();
    t = performance.now();
    const reset = await resetGroupOffsets({
      kafka: ctx.kafka,
      groupId,
      topic: source,
      to: { kind: 'earliest' },
      actor: 'bench',
    });
    const resetMs = performance.now() - t;
    if (!reset.applied) throw new Error('group reset was not applied');
    await setEnds();
    const javaReset = await runKafkaTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', [
      '--bootstrap-server',
      broker.brokers.join(','),
      '--group',
      groupId,
      '--topic',
      source,
      '--reset-offsets',
      '--to-earliest',
      '--execute',
    ]);
    if (javaReset.code !== 0)
      throw new Error(`ConsumerGroupCommand failed: ${javaReset.output.slice(-1500)}`);
    return {
      name: 'replay',
      title: `Replay: ${events.toLocaleString('en-US')} events re-published, and a group reset`,
      setup: {
        brokers: `${broker.brokers.length} (${broker.origin})`,
        partitions,
        'replication factor': 1,
        'message size': `${recordSize} B Avro (${SCHEMA}) + key + 3 headers`,
        acks: 'all (-1), idempotent producer',
        replay:
          'topology/replay replayInto (what `tributary replay --into` runs): read the range, copy byte for byte with replay headers, checkpoints in a compacted topic',
        'replay reference': `ProducerPerformance 4.1.2, ${events} records of ${recordSize} B, --throughput -1 (a write-only ceiling: the replay also reads)`,
        'reset reference':
          'ConsumerGroupCommand 4.1.2 --reset-offsets --to-earliest --execute (wall time, JVM start included)',
      },
      figures: [
        { label: 'source filled by raw kafkajs', value: fillRate, unit: 'events/s' },
        { label: 'replay re-published', value: replayRate, unit: 'events/s' },
        { label: 'replay total', value: result.durationMs / 1000, unit: 's' },
        { label: 'Java ProducerPerformance', value: java.recordsPerSec, unit: 'events/s' },
        { label: 'group reset (hub)', value: resetMs, unit: 'ms' },
        { label: 'group reset (Java ConsumerGroupCommand, wall)', value: javaReset.ms, unit: 'ms' },
      ],
      comparisons: [
        {
          label: 'replay / Java producer write rate (events/s)',
          ratio: replayRate / java.recordsPerSec,
          headline: true,
        },
        {
          label: 'group reset time, hub / Java tool wall time (its JVM start included)',
          ratio: resetMs / javaReset.ms,
          cost: true,
          headline: true,
        },
      ],
      notes: [
        `ProducerPerformance: ${java.line}`,
        "the hub reset commits the offsets directly, outside the group (platform/offset-commit.ts, one OffsetCommit as Kafka's AlterConsumerGroupOffsets sends); the Java tool's wall time includes its JVM start",
      ],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await admin.disconnect();
    await ctx.close();
    await broker.stop();
  }
}

if (isEntryPoint(import.meta)) await runAsMain(benchReplay);
