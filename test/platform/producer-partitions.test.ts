import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { assignPartition } from '../../platform/kafka.ts';
import { unacknowledgedPartitions } from '../../platform/producer.ts';
import { actionEvent, hubWithTopics, randomName, readTopic } from './support.ts';

describe('producer partition checks', () => {
  it('finds the partitions a send wrote to that the answer does not acknowledge', () => {
    const sent = [{ partition: 0 }, { partition: 2 }, { partition: 2 }, { partition: 1 }];
    expect(unacknowledgedPartitions(sent, [{ partition: 0 }, { partition: 1 }, { partition: 2 }])).toEqual(
      [],
    );
    // The kafkajs failure mode (tulios/kafkajs#1303): a partition missing from the answer.
    expect(unacknowledgedPartitions(sent, [{ partition: 0 }, { partition: 1 }])).toEqual([2]);
    expect(
      unacknowledgedPartitions(sent, [{ partition: 0, errorCode: 6 }, { partition: 1 }, { partition: 2 }]),
    ).toEqual([0]);
  });

  it('gives every key the partition of the Java-compatible kafkajs partitioner (10,000 keys)', () => {
    const oracle = Partitioners.DefaultPartitioner();
    const metadata = (n: number) =>
      Array.from({ length: n }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        replicas: [0],
        isr: [0],
        partitionErrorCode: 0,
      }));
    let seed = 7;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (let i = 0; i < 10_000; i += 1) {
      const bytes = Buffer.from(Array.from({ length: next() % 41 }, () => next() & 0xff));
      const key = i % 3 === 0 ? `entity-${i}-ü-${next()}` : bytes;
      const partitions = 1 + (next() % 64);
      const expected = oracle({
        topic: 't',
        partitionMetadata: metadata(partitions),
        message: { key, value: null },
      });
      expect(assignPartition('t', partitions, { key }), `key ${String(key)} of ${partitions}`).toBe(expected);
    }
  });

  it('pins the same partition for the same key, keeps an explicit one, spreads keyless records', () => {
    const a = assignPartition('t', 6, { key: 'customer-42' });
    expect(assignPartition('t', 6, { key: 'customer-42' })).toBe(a);
    expect(assignPartition('t', 6, { key: 'customer-42', partition: 5 })).toBe(5);
    const keyless = new Set(Array.from({ length: 12 }, () => assignPartition('t', 6, { key: null })));
    expect(keyless.size).toBeGreaterThan(1);
  });
});

describe('producer on a real broker with several partitions', () => {
  const topic = randomName('pinned');
  const setup = hubWithTopics([topic], 3);

  it('writes each key to the partition the Java-compatible partitioner chooses, and reports every partition written', async () => {
    const events = Array.from({ length: 30 }, (_, i) => actionEvent(`entity-${i}`));
    const metadata = await setup.hub.producer.publish(topic, events);
    const expected = new Set(events.map((e) => assignPartition(topic, 3, { key: e.envelope.subject })));
    expect(new Set(metadata.map((m) => m.partition))).toEqual(expected);
    const records = await readTopic(setup.hub.kafka, topic);
    expect(records).toHaveLength(30);
    for (const record of records) {
      expect(record.partition).toBe(assignPartition(topic, 3, { key: record.key?.toString() ?? null }));
    }
  });
});
