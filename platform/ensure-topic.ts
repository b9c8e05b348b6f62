import { HubError } from '../core/errors.ts';
import type { KafkaClient } from './kafka.ts';
import { fromKafkaError, isTopicSettling } from './kafka-errors.ts';

/** Settings for an internal topic the platform creates on first use. */
export interface EnsureTopicOptions {
  kafka: KafkaClient;
  topic: string;
  partitions: number;
  /** Kafka topic configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  configs?: Record<string, string>;
  /** -1 takes the broker's default.replication.factor, so one node and three nodes both work. */
  replicationFactor?: number;
  /** How long to wait for every partition to have a leader. */
  timeoutMs?: number;
}

type Admin = ReturnType<KafkaClient['admin']>;

/**
 * Waits until every partition of `topics` has a leader. kafkajs' own `waitForLeaders` gives up
 * on the first UNKNOWN_TOPIC_OR_PARTITION, which a busy broker answers for a moment after a
 * create; here that and the other settling answers (isTopicSettling) only mean "not yet".
 */
export async function waitForTopicLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      const ready = metadata.every(
        (t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
      );
      if (ready && metadata.length === topics.length) return;
    } catch (err) {
      if (!isTopicSettling(err)) {
        throw fromKafkaError(err, 'KAFKA_TOPIC_METADATA', { topic: topics.join(',') });
      }
    }
    if (Date.now() > deadline) {
      throw new HubError('KAFKA_TOPIC_NOT_READY', `topics have no leader after ${timeoutMs} ms`, {
        retriable: true,
        where: { topic: topics.join(',') },
        hint: 'check the brokers: a partition without a leader usually means a broker is down',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Creates an internal topic when it is missing; an existing topic is left as it is (the
 * topology owns drift). Safe to call from several processes at once.
 */
export async function ensureTopic(options: EnsureTopicOptions): Promise<void> {
  const { topic } = options;
  const admin = options.kafka.admin();
  try {
    await admin.connect();
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      // A concurrent creator makes kafkajs answer false here, not throw.
      await admin.createTopics({
        waitForLeaders: false,
        topics: [
          {
            topic,
            numPartitions: options.partitions,
            replicationFactor: options.replicationFactor ?? -1,
            configEntries: Object.entries(options.configs ?? {}).map(([name, value]) => ({ name, value })),
          },
        ],
      });
    }
    await waitForTopicLeaders(admin, [topic], options.timeoutMs);
  } catch (err) {
    if (err instanceof HubError) throw err;
    throw new HubError('KAFKA_TOPIC_CREATE', `could not create topic ${topic}: ${(err as Error).message}`, {
      retriable: true,
      cause: err,
      where: { topic },
      hint: 'check that the brokers are reachable and that this client may create topics',
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * `ensureTopic` on first use, once: the returned function resolves when the topic is there and
 * every later call reuses that; a failed attempt is forgotten, so the next call tries again.
 */
export function ensureTopicOnce(options: EnsureTopicOptions): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => {
    ready ??= ensureTopic(options).catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    return ready;
  };
}
