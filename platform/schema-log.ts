import type { Producer } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import type { SchemaLog } from '../schemas/index.ts';
import { ensureTopic } from './ensure-topic.ts';
import { createIdempotentProducer, type KafkaClient } from './kafka.ts';
import { fromKafkaError } from './kafka-errors.ts';
import { createTopicFollower } from './topic-follower.ts';

/** The compacted topic the embedded schema registry keeps its schemas in. */
export const SCHEMA_LOG_TOPIC = '_tributary.schemas';

/** Topic configs of the schema log: one partition (a total order of registrations), compacted. */
export const schemaLogTopicConfigs: Record<string, string> = {
  'cleanup.policy': 'compact',
  // Schemas must never age out: compaction keeps the last record per key forever.
  'retention.ms': '-1',
};

export interface KafkaSchemaLog extends SchemaLog {
  close(): Promise<void>;
}

export interface KafkaSchemaLogOptions {
  kafka: KafkaClient;
  topic?: string;
  logger?: Logger;
}

/**
 * The SchemaLog of the embedded registry over a compacted single-partition topic. The topic is
 * created on first use. The log is followed from the beginning once and kept in order in
 * memory, so `readAll()` only waits until it has read up to the end offset of the moment it
 * was called (one group join per process instead of one per read).
 */
export function createKafkaSchemaLog(options: KafkaSchemaLogOptions): KafkaSchemaLog {
  const { kafka } = options;
  const topic = options.topic ?? SCHEMA_LOG_TOPIC;
  const records: Array<{ key: string; value: Buffer | null }> = [];
  const follower = createTopicFollower({
    kafka,
    topic,
    ...(options.logger ? { logger: options.logger } : {}),
    onRecord: (record) => {
      if (record.key === null) return;
      records.push({ key: record.key.toString('utf8'), value: record.value });
    },
  });
  // Every append must land in the one partition in order, exactly once, before it is reported.
  const producer: Producer = createIdempotentProducer(kafka);
  let ready: Promise<void> | undefined;
  let closed: Promise<void> | undefined;

  function start(): Promise<void> {
    ready ??= (async () => {
      await ensureTopic({ kafka, topic, partitions: 1, configs: schemaLogTopicConfigs });
      await Promise.all([producer.connect(), follower.start()]);
    })().catch((err: unknown) => {
      ready = undefined;
      throw fromKafkaError(err, 'SCHEMA_LOG_UNAVAILABLE', { topic });
    });
    return ready;
  }

  return {
    async append(key, value) {
      await start();
      try {
        await producer.send({ topic, acks: -1, messages: [{ key, value, partition: 0 }] });
      } catch (err) {
        throw fromKafkaError(err, 'SCHEMA_LOG_UNAVAILABLE', { topic });
      }
    },
    async readAll() {
      await start();
      await follower.catchUp();
      return records.slice();
    },
    close() {
      closed ??= Promise.all([producer.disconnect(), follower.close()]).then(() => undefined);
      return closed;
    },
  };
}
