import { HubError } from '../core/errors.ts';
import type { KafkaClient } from './kafka.ts';
import { fromKafkaError, isTopicSettling } from './kafka-errors.ts';

/** Partition counts of topics, read from the cluster and kept for `ttlMs`. */
export interface PartitionCounts {
  of(topic: string): Promise<number>;
  forget(topic?: string): void;
}

/**
 * The producer pins partitions itself (to check every written partition was acknowledged), so
 * it needs each topic's partition count; re-read after `ttlMs` so added partitions are used.
 */
export function createPartitionCounts(kafka: KafkaClient, ttlMs = 30_000): PartitionCounts {
  const counts = new Map<string, { count: number; readAt: number }>();

  async function read(topic: string): Promise<number> {
    const admin = kafka.admin();
    const deadline = Date.now() + 10_000;
    try {
      await admin.connect();
      for (;;) {
        try {
          const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
          const count = topics[0]?.partitions.length ?? 0;
          if (count > 0) return count;
        } catch (err) {
          // A topic created a moment ago may not be in the broker's metadata yet.
          if (!isTopicSettling(err) || Date.now() > deadline) throw err;
        }
        if (Date.now() > deadline) {
          throw new HubError('KAFKA_TOPIC_UNKNOWN', `topic ${topic} has no partitions`, {
            retriable: true,
            where: { topic },
            hint: 'create the hub topics with `tributary topology apply`',
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } catch (err) {
      throw fromKafkaError(err, 'KAFKA_SEND', { topic });
    } finally {
      await admin.disconnect();
    }
  }

  return {
    async of(topic) {
      const cached = counts.get(topic);
      if (cached && Date.now() - cached.readAt < ttlMs) return cached.count;
      const count = await read(topic);
      counts.set(topic, { count, readAt: Date.now() });
      return count;
    },
    forget(topic) {
      if (topic === undefined) counts.clear();
      else counts.delete(topic);
    },
  };
}
