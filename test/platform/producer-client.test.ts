import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import {
  brokerErrorName,
  describeClientError,
  isRetriableClientError,
  RelayedClientError,
  timestampGroups,
} from '../../platform/producer-client.ts';
import { type RangeRecord, readRange } from '../../platform/replay-reader.ts';
import { createTopics, deleteTopics, randomName, testHub } from './support.ts';

/**
 * The platform producer writes through @platformatic/kafka (platform/producer-client.ts), on a
 * worker thread (platform/thread-sender.ts) unless told otherwise; both ways are run here:
 * publishRaw must keep every part of a record (DLQ, replay and redrive depend on it), and a
 * failure must say what went wrong and whether a retry can help.
 */
describe.each([
  ['on its own thread (the default)', true],
  ['on the main thread (KAFKA_PRODUCER_THREAD=false)', false],
])('platform producer over its Kafka client, %s', (_label, producerThread) => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  const topic = randomName('raw-exact');
  const small = randomName('raw-small');

  beforeAll(async () => {
    hub = await testHub({ producerThread });
    await createTopics(hub.kafka, [topic], 2);
    const admin = hub.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic: small,
            numPartitions: 1,
            replicationFactor: -1,
            configEntries: [{ name: 'max.message.bytes', value: '2048' }],
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
  });
  afterAll(async () => {
    await hub.close();
    await deleteTopics(hub.kafka, [topic, small, hub.schemaLogTopic]);
  });

  it('publishRaw keeps keys (none too), values (none too), repeated headers, timestamps and pinned partitions', async () => {
    const acks = await hub.producer.publishRaw(topic, [
      {
        key: 'k-1',
        value: Buffer.from([0, 1, 2, 255]),
        headers: { 'x-one': 'a', 'x-bytes': Buffer.from([9, 8]), 'x-many': ['first', 'second'] },
        timestamp: '1700000000123',
        partition: 1,
      },
      { key: null, value: Buffer.from('keyless'), timestamp: '1600000000000', partition: 1 },
      { key: Buffer.from('tomb'), value: null, partition: 1 },
    ]);
    expect(acks).toEqual([{ topic, partition: 1, baseOffset: '0' }]);
    const records: RangeRecord[] = [];
    await readRange({
      kafka: hub.kafka,
      topic,
      ranges: [{ partition: 1, from: '0', to: '3' }],
      onBatch: async (_p, batch) => {
        records.push(...batch);
      },
    });
    expect(records.map((r) => r.key?.toString() ?? null)).toEqual(['k-1', null, 'tomb']);
    expect(records[0]?.value).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(records[1]?.value?.toString()).toBe('keyless');
    expect(records[2]?.value).toBeNull();
    expect(records[0]?.timestamp).toBe('1700000000123');
    expect(records[1]?.timestamp).toBe('1600000000000');
    expect(Number(records[2]?.timestamp)).toBeGreaterThan(1_700_000_000_000);
    const headers = records[0]?.headers ?? {};
    expect(String(headers['x-one'])).toBe('a');
    expect(headers['x-bytes']).toEqual(Buffer.from([9, 8]));
    expect((headers['x-many'] as Buffer[]).map(String)).toEqual(['first', 'second']);
  });

  it('refuses a record over the topic limit as not retriable, naming the topic and the broker error', async () => {
    const err = await hub.producer
      .publishRaw(small, [{ key: 'big', value: Buffer.alloc(8192, 1) }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    const hubError = err as HubError;
    expect(hubError.code).toBe('KAFKA_SEND');
    expect(hubError.retriable).toBe(false);
    expect(hubError.where.topic).toBe(small);
    expect(hubError.message).toMatch(/larger than the max message size/i);
    // The producer goes on working after the refusal.
    expect(await hub.producer.publishRaw(small, [{ key: 'ok', value: Buffer.from('fits') }])).toHaveLength(1);
  });
});

describe('producer client helpers', () => {
  it('splits a send where timestamps lie 2^31 ms or more apart, and only there', () => {
    const at = (t: number) => ({ timestamp: String(t) });
    const t0 = 1_700_000_000_000;
    const day = 86_400_000;
    const groups = timestampGroups([
      at(t0),
      at(t0 + day),
      at(t0 - 30 * day),
      at(t0 - 31 * day),
      at(t0 + 40 * day),
    ]);
    expect(groups.map((g) => g.map((r) => (Number(r.timestamp) - t0) / day))).toEqual([
      [0, 1],
      [-30, -31],
      [40],
    ]);
    expect(timestampGroups([{}, {}, at(Date.now() - day)])).toHaveLength(1);
  });

  it('describes a client failure by its causes, not only by its summary', () => {
    const inner = Object.assign(new Error('NOT_LEADER_OR_FOLLOWER from broker 2'), {});
    const outer = new AggregateError([inner, new Error('connect ECONNREFUSED')], 'produce failed 3 times.');
    expect(describeClientError(outer)).toBe(
      'produce failed 3 times. (NOT_LEADER_OR_FOLLOWER from broker 2; connect ECONNREFUSED)',
    );
    expect(describeClientError(new Error('plain'))).toBe('plain');
  });

  it('reads a failure relayed from the producer thread as the client error it was', () => {
    const relayed = new RelayedClientError({
      message: 'produce failed (MESSAGE_TOO_LARGE)',
      brokerError: 'MESSAGE_TOO_LARGE',
      retriable: false,
    });
    expect(brokerErrorName(relayed)).toBe('MESSAGE_TOO_LARGE');
    expect(isRetriableClientError(relayed)).toBe(false);
    expect(describeClientError(relayed)).toBe('produce failed (MESSAGE_TOO_LARGE)');
    const lost = new RelayedClientError({
      message: 'thread stopped',
      brokerError: undefined,
      retriable: true,
    });
    expect(isRetriableClientError(lost)).toBe(true);
    expect(brokerErrorName(lost)).toBeUndefined();
  });
});
