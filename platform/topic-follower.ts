import { randomUUID } from 'node:crypto';
import { HubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { KafkaClient } from './kafka.ts';
import { isTopicSettling } from './kafka-errors.ts';
import type { RawHeaders } from './records.ts';

/** One record of a followed topic, handed to `onRecord` in offset order per partition. */
export interface FollowedRecord {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: RawHeaders;
}

/** Reads a (usually compacted) topic from its beginning and keeps following it. */
export interface TopicFollower {
  start(): Promise<void>;
  /** Resolves once every record that existed when it was called has reached `onRecord`. */
  catchUp(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface TopicFollowerOptions {
  kafka: KafkaClient;
  topic: string;
  onRecord: (record: FollowedRecord) => void;
  logger?: Logger;
}

/**
 * Materialises internal state topics (schemas, applied event ids). kafkajs has no manual
 * partition assignment, so the follower joins a throw-away consumer group of its own that
 * never commits and is deleted on close; every process therefore sees the whole topic.
 */
export function createTopicFollower(options: TopicFollowerOptions): TopicFollower {
  const { kafka, topic, onRecord } = options;
  const groupId = `_tributary.follower.${topic}.${randomUUID()}`;
  // A short long-poll: close() waits for the fetch in flight, and state topics are quiet.
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
  // Next offset to read, per partition; absent until the first batch of that partition.
  const positions = new Map<number, bigint>();
  let started: Promise<void> | undefined;
  let closed: Promise<void> | undefined;

  async function run(): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          onRecord({
            partition: batch.partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: (message.headers ?? {}) as RawHeaders,
          });
        }
        // lastOffset() also covers batches whose tail was compacted away.
        positions.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
      },
    });
  }

  async function caughtUp(admin: ReturnType<KafkaClient['admin']>): Promise<boolean> {
    let offsets: Awaited<ReturnType<typeof admin.fetchTopicOffsets>>;
    try {
      offsets = await admin.fetchTopicOffsets(topic);
    } catch (err) {
      // Just created, or a leader moving: ask again until the deadline.
      if (isTopicSettling(err)) return false;
      throw err;
    }
    return offsets.every(({ partition, high, low }) => {
      const position = positions.get(partition) ?? BigInt(low);
      return position >= BigInt(high);
    });
  }

  return {
    start() {
      started ??= run();
      return started;
    },
    async catchUp(timeoutMs = 30_000) {
      if (!started) throw new HubError('PLATFORM_NOT_STARTED', `follower of ${topic} was not started`);
      await started;
      const admin = kafka.admin();
      await admin.connect();
      try {
        const deadline = Date.now() + timeoutMs;
        while (!(await caughtUp(admin))) {
          if (Date.now() > deadline) {
            throw new HubError(
              'KAFKA_READ_TIMEOUT',
              `could not read ${topic} to its end in ${timeoutMs} ms`,
              {
                retriable: true,
                where: { topic },
                hint: 'check that the brokers are reachable and the consumer group can join',
              },
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        await admin.disconnect();
      }
    },
    close() {
      closed ??= (async () => {
        await consumer.disconnect();
        if (!started) return;
        // The group was only a vehicle for reading; leaving it behind would clutter `describe`.
        const admin = kafka.admin();
        try {
          await admin.connect();
          await admin.deleteGroups([groupId]);
        } catch (err) {
          options.logger?.debug({ err, groupId }, 'could not delete follower group');
        } finally {
          await admin.disconnect();
        }
      })();
      return closed;
    },
  };
}
