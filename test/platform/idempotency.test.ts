import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryIdempotencyStore } from '../../platform/idempotency.ts';
import { appliedTopic, createTopicIdempotencyStore } from '../../platform/idempotency-topic.ts';
import { deleteTopics, randomName, testKafka } from './support.ts';

describe('idempotency stores', () => {
  const kafka = testKafka();
  const groups: string[] = [];

  afterAll(async () => {
    await deleteTopics(kafka, groups.map(appliedTopic));
  });

  it('memory store forgets the least recently used id beyond its capacity', async () => {
    const store = createMemoryIdempotencyStore({ capacity: 2 });
    await store.remember('a');
    await store.remember('b');
    expect(await store.seen('a')).toBe(true); // touch a: b is now the oldest
    await store.remember('c');
    expect(await store.seen('a')).toBe(true);
    expect(await store.seen('b')).toBe(false);
    expect(await store.seen('c')).toBe(true);
  });

  it('durable store: a member sees what another member of its group applied once it refreshes', async () => {
    const groupId = randomName('group');
    groups.push(groupId);
    const first = createTopicIdempotencyStore({ kafka, groupId });
    const second = createTopicIdempotencyStore({ kafka: testKafka(), groupId });
    await Promise.all([first.start?.(), second.start?.()]);
    try {
      const id = randomUUID();
      expect(await first.seen(id)).toBe(false);
      await first.remember(id);
      expect(await first.seen(id)).toBe(true);
      // What the consumer does after a rebalance handed it partitions the other member had.
      await second.refresh?.();
      expect(await second.seen(id)).toBe(true);
      // A store of another group knows nothing of it.
      const otherGroup = randomName('group');
      groups.push(otherGroup);
      const other = createTopicIdempotencyStore({ kafka, groupId: otherGroup });
      await other.start?.();
      expect(await other.seen(id)).toBe(false);
      await other.close?.();
    } finally {
      await Promise.all([first.close?.(), second.close?.()]);
    }
  });

  it('names the applied topic after the group, replacing characters Kafka refuses', () => {
    expect(appliedTopic('connector.crm/sink 1')).toBe('_tributary.applied.connector.crm_sink_1');
  });
});
