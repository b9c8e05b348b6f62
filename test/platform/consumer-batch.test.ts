import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { createDeadLetterWriter, DeadLetterHeaders, deadLetterTopic } from '../../platform/dead-letter.ts';
import {
  type AssignedPartition,
  type BatchEvent,
  createEventConsumer,
  type EventConsumerOptions,
  type PartitionContext,
} from '../../platform/index.ts';
import { headerText } from '../../platform/records.ts';
import {
  actionEvent,
  createTopics,
  deleteTopics,
  randomName,
  readTopic,
  testHub,
  waitUntil,
} from './support.ts';

type Call = { offsets: string[]; subjects: string[]; partition: PartitionContext };

describe('event consumer: batch handler and positions kept outside Kafka', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  const created: string[] = [];

  beforeAll(async () => {
    hub = await testHub();
  });
  afterAll(async () => {
    await hub.close();
    await deleteTopics(hub.kafka, [...created, hub.schemaLogTopic]);
  });

  async function freshTopic(prefix: string): Promise<string> {
    const topic = randomName(prefix);
    created.push(topic, deadLetterTopic(topic));
    await createTopics(hub.kafka, [topic, deadLetterTopic(topic)]);
    return topic;
  }

  function consumerOf(topic: string, groupId: string, extra: Partial<EventConsumerOptions>) {
    return createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId,
      topics: [topic],
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      retry: { retries: 2, initialDelayMs: 20, maxDelayMs: 50 },
      ...extra,
    });
  }

  /** A batch handler that records its calls and applies events to `applied`. */
  function recorder(fail?: (events: BatchEvent[], partition: PartitionContext) => void) {
    const calls: Call[] = [];
    const applied: string[] = [];
    const handler = async (events: BatchEvent[], partition: PartitionContext) => {
      calls.push({
        offsets: events.map((e) => e.ctx.offset),
        subjects: events.map((e) => e.event.envelope.subject),
        partition,
      });
      fail?.(events, partition);
      applied.push(...events.map((e) => e.event.envelope.subject));
    };
    return { calls, applied, handler };
  }

  async function committed(groupId: string, topic: string): Promise<string | undefined> {
    const admin = hub.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return offsets?.partitions.find((p) => p.partition === 0)?.offset;
    } finally {
      await admin.disconnect();
    }
  }

  it('hands a partition’s records over in slices, dead-letters undecodable ones alone, retries, isolates a poison record, then commits the whole slice', async () => {
    const topic = await freshTopic('batch');
    const groupId = randomName('group');
    // Written before the consumer starts, so the first fetch sees many records at once.
    await hub.producer.publish(
      topic,
      Array.from({ length: 10 }, (_, i) => actionEvent(`a-${i}`)),
    );
    await hub.producer.publishRaw(topic, [{ key: 'garbage', value: Buffer.from('not avro at all') }]);
    await hub.producer.publish(topic, [
      actionEvent('poison'),
      ...Array.from({ length: 5 }, (_, i) => actionEvent(`b-${i}`)),
    ]);
    let transientLeft = 1;
    const r = recorder((events, partition) => {
      if (transientLeft > 0) {
        transientLeft -= 1;
        throw new HubError('STORE_BUSY', 'store busy', { retriable: true });
      }
      if (events.some((e) => e.event.envelope.subject === 'poison'))
        throw new HubError('POISON', `poison in ${partition.mode}`);
    });
    const consumer = consumerOf(topic, groupId, { batchHandler: r.handler });
    await consumer.start();
    await waitUntil('every good record applied', () => r.applied.length === 15);
    await consumer.close();

    const expected = [
      ...Array.from({ length: 10 }, (_, i) => `a-${i}`),
      ...Array.from({ length: 5 }, (_, i) => `b-${i}`),
    ];
    expect([...r.applied].sort()).toEqual([...expected].sort());
    // Offsets in order within the partition, each good record applied exactly once.
    expect(new Set(r.applied).size).toBe(15);
    // At least one call carried many records (the point of a batch handler).
    expect(Math.max(...r.calls.map((c) => c.offsets.length))).toBeGreaterThan(1);
    // The garbage record (offset 10) never reached the handler.
    expect(r.calls.some((c) => c.offsets.includes('10'))).toBe(false);
    // The transient failure was retried: a second attempt of the same first slice.
    const firstSlice = r.calls[0]!;
    expect(r.calls[1]!.offsets).toEqual(firstSlice.offsets);
    expect(r.calls[1]!.partition.attempt).toBe(2);
    // The poison record was handed alone while isolating, and so were its neighbours.
    const isolating = r.calls.filter((c) => c.partition.mode === 'isolating');
    expect(isolating.length).toBeGreaterThan(1);
    expect(isolating.every((c) => c.offsets.length === 1)).toBe(true);

    const dead = await readTopic(hub.kafka, deadLetterTopic(topic));
    const stages = dead.map((d) => [
      headerText(d.headers, DeadLetterHeaders.originalOffset),
      headerText(d.headers, DeadLetterHeaders.stage),
      headerText(d.headers, DeadLetterHeaders.errorCode),
    ]);
    expect(stages).toEqual([
      ['10', 'decode', 'SERDE_BAD_MAGIC'],
      ['11', 'handle', 'POISON'],
    ]);
    expect(await committed(groupId, topic)).toBe('17');
    expect(consumer.status()).toMatchObject({ processed: 15, deadLettered: 2 });
  }, 60_000);

  it('onAssigned seeks each assigned partition to a position kept outside Kafka, back or forward, after every join', async () => {
    const topic = await freshTopic('seek');
    const groupId = randomName('group');
    await hub.producer.publish(
      topic,
      Array.from({ length: 10 }, (_, i) => actionEvent(`s-${i}`)),
    );
    // A first member reads everything and commits offset 10.
    const first = recorder();
    const reader = consumerOf(topic, groupId, { batchHandler: first.handler });
    await reader.start();
    await waitUntil('first pass', () => first.applied.length === 10);
    await reader.close();
    expect(await committed(groupId, topic)).toBe('10');

    // The external store only recorded up to offset 2: the next member must start at 3,
    // behind the group's committed offset (what the audit consumer needs after a crash).
    const assignments: AssignedPartition[][] = [];
    const second = recorder();
    const resumed = consumerOf(topic, groupId, {
      batchHandler: second.handler,
      onAssigned: async (assignment) => {
        assignments.push(assignment);
        return new Map([[`${topic}:0`, '3']]);
      },
    });
    await resumed.start();
    await waitUntil('records 3..9 again', () => second.applied.length === 7);
    await hub.producer.publish(topic, [actionEvent('s-10')]);
    await waitUntil('the new record', () => second.applied.includes('s-10'));
    await resumed.close();
    expect(assignments[0]).toEqual([{ topic, partition: 0 }]);
    expect(second.applied).toEqual(['s-3', 's-4', 's-5', 's-6', 's-7', 's-8', 's-9', 's-10']);
    expect(second.calls.flatMap((c) => c.offsets)[0]).toBe('3');
    expect(await committed(groupId, topic)).toBe('11');

    // Forward: a store that is ahead of the group skips what it already has.
    const third = recorder();
    await hub.producer.publish(topic, [actionEvent('s-11'), actionEvent('s-12')]);
    const skipping = consumerOf(topic, groupId, {
      handler: async (event) => void third.applied.push(event.envelope.subject),
      onAssigned: async () => new Map([[`${topic}:0`, '12']]),
    });
    await skipping.start();
    await waitUntil('record 12', () => third.applied.includes('s-12'));
    await skipping.close();
    expect(third.applied).toEqual(['s-12']);
  }, 60_000);

  it('onUndecodable takes undecodable records in offset order with the batches around them; a repeated event id in one fetch is handed once', async () => {
    const topic = await freshTopic('undecodable');
    const groupId = randomName('group');
    const repeated = actionEvent('u-6');
    await hub.producer.publish(
      topic,
      Array.from({ length: 5 }, (_, i) => actionEvent(`u-${i}`)),
    );
    await hub.producer.publishRaw(topic, [{ key: 'raw', value: Buffer.from('not avro') }]);
    await hub.producer.publish(topic, [actionEvent('u-5'), repeated, actionEvent('u-7'), repeated]);
    // One log for both callbacks: what an audit chain would append, in that order.
    const log: string[] = [];
    let hookFailures = 1;
    const consumer = consumerOf(topic, groupId, {
      batchHandler: async (events) => {
        for (const { event, ctx } of events) log.push(`${ctx.offset}:${event.envelope.subject}`);
      },
      onUndecodable: async (record, position, error) => {
        if (hookFailures-- > 0) throw new HubError('CHAIN_BUSY', 'busy', { retriable: true });
        log.push(`${position.offset}:raw:${error.code}:${record.value?.toString()}`);
      },
    });
    await consumer.start();
    await waitUntil('all ten records settled', async () => (await committed(groupId, topic)) === '10');
    await consumer.close();
    expect(log).toEqual([
      '0:u-0',
      '1:u-1',
      '2:u-2',
      '3:u-3',
      '4:u-4',
      '5:raw:SERDE_BAD_MAGIC:not avro',
      '6:u-5',
      '7:u-6',
      '8:u-7',
    ]);
    expect(await readTopic(hub.kafka, deadLetterTopic(topic))).toEqual([]);
    expect(consumer.status()).toMatchObject({ processed: 8, duplicates: 1, deadLettered: 0 });
    expect(() =>
      createEventConsumer({
        kafka: hub.kafka,
        serde: hub.serde,
        groupId,
        topics: [topic],
        deadLetters: createDeadLetterWriter({ producer: hub.producer }),
        handler: async () => {},
        onUndecodable: async () => {},
      }),
    ).toThrow(/onUndecodable needs a batchHandler/);
  }, 60_000);

  it('refuses options with both or neither handler', () => {
    const base = { kafka: hub.kafka, serde: hub.serde, groupId: 'g', topics: ['t'] };
    const deadLetters = createDeadLetterWriter({ producer: hub.producer });
    expect(() => createEventConsumer({ ...base, deadLetters })).toThrow(
      /exactly one of handler and batchHandler/,
    );
    expect(() =>
      createEventConsumer({
        ...base,
        deadLetters,
        handler: async () => {},
        batchHandler: async () => {},
      }),
    ).toThrow(/exactly one/);
  });
});
