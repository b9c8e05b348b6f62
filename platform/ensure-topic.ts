import { HubError } from '../core/errors.ts';
import type { KafkaClient } from './kafka.ts';

/** Settings for an internal topic the platform creates on first use. */
export interface EnsureTopicOptions {
  kafka: KafkaClient;
  topic: string;
  partitions: number;
  /** Kafka topic configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  configs?: Record<string, string>;
  /** -1 takes the broker's default.replication.factor, so one node and three nodes both work. */
  replicationFactor?: number;
}

/**
 * Creates an internal topic when it is missing; an existing topic is left as it is (the
 * topology owns drift). Safe to call from several processes at once.
 */
export async function ensureTopic(options: EnsureTopicOptions): Promise<void> {
  const admin = options.kafka.admin();
  try {
    await admin.connect();
    const existing = await admin.listTopics();
    if (existing.includes(options.topic)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: options.topic,
          numPartitions: options.partitions,
          replicationFactor: options.replicationFactor ?? -1,
          configEntries: Object.entries(options.configs ?? {}).map(([name, value]) => ({ name, value })),
        },
      ],
    });
  } catch (err) {
    // Another process creating the same topic at the same moment is not a failure.
    if ((err as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') return;
    throw new HubError(
      'KAFKA_TOPIC_CREATE',
      `could not create topic ${options.topic}: ${(err as Error).message}`,
      {
        retriable: true,
        cause: err,
        where: { topic: options.topic },
        hint: 'check that the brokers are reachable and that this client may create topics',
      },
    );
  } finally {
    await admin.disconnect();
  }
}
