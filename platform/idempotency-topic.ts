import type { Producer } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import { ensureTopic } from './ensure-topic.ts';
import type { IdempotencyStore } from './idempotency.ts';
import { createIdempotentProducer, type KafkaClient } from './kafka.ts';
import { fromKafkaError } from './kafka-errors.ts';
import { createTopicFollower } from './topic-follower.ts';

/** Prefix of the per-group topics holding applied event ids. */
export const APPLIED_TOPIC_PREFIX = '_tributary.applied.';

/** Default window in which a replayed or redelivered event is still recognised: 7 days. */
export const DEFAULT_APPLIED_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** The topic that holds the applied ids of one consumer group (characters Kafka refuses become `_`). */
export function appliedTopic(groupId: string): string {
  return `${APPLIED_TOPIC_PREFIX}${groupId.replace(/[^a-zA-Z0-9._-]/g, '_')}`.slice(0, 249);
}

export interface TopicIdempotencyStoreOptions {
  kafka: KafkaClient;
  groupId: string;
  retentionMs?: number;
  logger?: Logger;
}

/**
 * The durable store: a topic `_tributary.applied.<group>` keyed by event id, read whole on
 * start and followed afterwards.
 *
 * Why a topic and not a file: the partitions of a consumer group move between hub processes
 * (and machines) on every rebalance, so the memory of what was applied must travel with the
 * group, not stay on one disk; Kafka is the one store every member already shares. The topic
 * is `compact,delete` with a retention window, so the set each member holds stays bounded:
 * compaction keeps one record per id and deletion forgets ids older than the window (replays
 * further back than the window must target a fresh group or an idempotent sink).
 *
 * A crash between a handler's effect and `remember` still re-applies that one event, which is
 * why sinks also pass the event id as their idempotency key downstream.
 */
export function createTopicIdempotencyStore(options: TopicIdempotencyStoreOptions): IdempotencyStore {
  const { kafka } = options;
  const topic = appliedTopic(options.groupId);
  const applied = new Set<string>();
  const follower = createTopicFollower({
    kafka,
    topic,
    ...(options.logger ? { logger: options.logger } : {}),
    onRecord: (record) => {
      if (record.key === null) return;
      const id = record.key.toString('utf8');
      if (record.value === null) applied.delete(id);
      else applied.add(id);
    },
  });
  const producer: Producer = createIdempotentProducer(kafka);
  let started: Promise<void> | undefined;
  let closed: Promise<void> | undefined;
  // Ids arriving while a send is in flight ride together in the next one: one request for many.
  let waiting: Array<{ id: string; resolve: () => void; reject: (err: unknown) => void }> = [];
  let flushing: Promise<void> | undefined;

  async function flush(): Promise<void> {
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      const time = new Date().toISOString();
      try {
        await producer.send({ topic, acks: -1, messages: batch.map(({ id }) => ({ key: id, value: time })) });
        for (const entry of batch) entry.resolve();
      } catch (err) {
        const error = fromKafkaError(err, 'KAFKA_SEND', { topic });
        for (const entry of batch) entry.reject(error);
      }
    }
    flushing = undefined;
  }

  return {
    start() {
      started ??= (async () => {
        await ensureTopic({
          kafka,
          topic,
          partitions: 1,
          configs: {
            'cleanup.policy': 'compact,delete',
            'retention.ms': String(options.retentionMs ?? DEFAULT_APPLIED_RETENTION_MS),
          },
        });
        await producer.connect();
        await follower.start();
        await follower.catchUp();
      })();
      return started;
    },
    async seen(id) {
      return applied.has(id);
    },
    remember(id) {
      // Marked at once (the effect did happen); durable when the promise resolves.
      applied.add(id);
      return new Promise<void>((resolve, reject) => {
        waiting.push({ id, resolve, reject });
        flushing ??= flush();
      });
    },
    refresh() {
      return follower.catchUp();
    },
    close() {
      closed ??= (async () => {
        await flushing;
        await Promise.all([producer.disconnect(), follower.close()]);
      })();
      return closed;
    },
  };
}
