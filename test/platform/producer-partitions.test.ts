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
