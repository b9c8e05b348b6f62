import { HubError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import {
  createTopicFollower,
  type EventProducer,
  ensureTopic,
  type KafkaClient,
} from '../../platform/index.ts';
import type { SourceCursor } from './source-types.ts';

/** Compacted topic holding each source stream's cursor, keyed `<connector>/<stream>`. */
export const SOURCE_OFFSETS_TOPIC = '_tributary.source-offsets';

export interface StoredOffset {
  key: string;
  cursor: SourceCursor | null;
  /** When it was committed (ms since the epoch). */
  committedAt: number;
}

/**
 * Source offsets in Kafka, as Kafka Connect keeps them: a compacted topic read whole on start.
 * `commit` resolves only once the broker acknowledged the record, and is called only after the
 * batch it covers was acknowledged, so a crash never moves a cursor past an unpublished change.
 */
export interface SourceOffsetStore {
  start(): Promise<void>;
  get(key: string): SourceCursor | undefined;
  list(prefix?: string): StoredOffset[];
  commit(key: string, cursor: SourceCursor | null): Promise<void>;
  close(): Promise<void>;
}

export interface SourceOffsetStoreOptions {
  kafka: KafkaClient;
  producer: EventProducer;
  topic?: string;
  logger?: Logger;
}

/** Builds the store; `start()` creates the topic if missing and reads it to its end. */
export function createSourceOffsetStore(options: SourceOffsetStoreOptions): SourceOffsetStore {
  const topic = options.topic ?? SOURCE_OFFSETS_TOPIC;
  const offsets = new Map<string, StoredOffset>();
  const follower = createTopicFollower({
    kafka: options.kafka,
    topic,
    ...(options.logger ? { logger: options.logger } : {}),
    onRecord: (record) => {
      const key = record.key?.toString('utf8');
      if (!key) return;
      if (record.value === null) {
        offsets.delete(key);
        return;
      }
      try {
        const parsed = JSON.parse(record.value.toString('utf8')) as StoredOffset;
        offsets.set(key, parsed);
      } catch (err) {
        options.logger?.warn({ err, key, offset: record.offset }, 'unreadable source offset ignored');
      }
    },
  });
  let started: Promise<void> | undefined;
  return {
    start() {
      started ??= (async () => {
        await ensureTopic({
          kafka: options.kafka,
          topic,
          partitions: 1,
          configs: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000' },
        });
        await follower.start();
        // A topic made a moment ago may answer "not the leader" for a while: ask again.
        for (let attempt = 1; ; attempt++) {
          try {
            await follower.catchUp(30_000);
            break;
          } catch (err) {
            if (attempt >= 10) throw err;
            options.logger?.debug({ err, attempt }, 'source offsets not readable yet; retrying');
            await new Promise((r) => setTimeout(r, 300 * attempt));
          }
        }
      })();
      return started;
    },
    get: (key) => offsets.get(key)?.cursor ?? undefined,
    list: (prefix = '') =>
      [...offsets.values()]
        .filter((o) => o.key.startsWith(prefix))
        .sort((a, b) => a.key.localeCompare(b.key)),
    async commit(key, cursor) {
      const stored: StoredOffset = { key, cursor, committedAt: Date.now() };
      try {
        await options.producer.publishRaw(topic, [
          { key, value: Buffer.from(JSON.stringify(stored)), headers: {} },
        ]);
      } catch (err) {
        throw new HubError('SOURCE_OFFSET_COMMIT', `could not commit the offset of ${key}`, {
          retriable: true,
          cause: err,
          where: { topic, subject: key },
        });
      }
      offsets.set(key, stored);
    },
    close: () => follower.close(),
  };
}
