import { describe, expect, it } from 'vitest';
import { ensureTopicOnce } from '../../platform/index.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

describe('ensureTopicOnce', () => {
  const { kafka } = testKafka();

  it('creates the topic on first use and reuses that for every later call', async () => {
    const topic = uniqueName('ensure-once');
    const ensure = ensureTopicOnce({ kafka, topic, partitions: 2, configs: { 'cleanup.policy': 'compact' } });
    const first = ensure();
    expect(ensure()).toBe(first);
    await first;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(meta?.partitions).toHaveLength(2);
    } finally {
      await admin.disconnect();
    }
  });

  it('forgets a failed attempt, so the next call tries again', async () => {
    // A name Kafka refuses: every attempt fails, each with its own error.
    const ensure = ensureTopicOnce({
      kafka,
      topic: 'not a valid topic name!',
      partitions: 1,
      timeoutMs: 5_000,
    });
    const first = ensure();
    await expect(first).rejects.toMatchObject({ code: 'KAFKA_TOPIC_CREATE' });
    const second = ensure();
    expect(second).not.toBe(first);
    await expect(second).rejects.toMatchObject({ code: 'KAFKA_TOPIC_CREATE' });
  });
});
