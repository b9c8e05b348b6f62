import { Kafka, type KafkaConfig, logLevel, Partitioners, type Producer, type SASLOptions } from 'kafkajs';
import { z } from 'zod';
import type { Logger } from '../core/logger.ts';

/**
 * The one place that builds a kafkajs client. Everything else asks for a `KafkaClient` and
 * never imports kafkajs, so the client library can be swapped behind this module. The event
 * producer already writes through @platformatic/kafka (producer-client.ts), built from the same
 * settings.
 */
export const kafkaConfigSchema = z.object({
  brokers: z
    .array(z.string().regex(/^[^\s:]+:\d+$/, 'a broker is host:port'))
    .min(1)
    .describe('Bootstrap brokers (KAFKA_BROKERS, comma separated)'),
  clientId: z.string().default('tributary').describe('Client id sent to the brokers'),
  ssl: z.boolean().default(false).describe('Use TLS to reach the brokers (KAFKA_SSL)'),
  sasl: z
    .object({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
      username: z.string(),
      password: z.string(),
    })
    .optional()
    .describe('SASL credentials (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD)'),
  producerThread: z
    .boolean()
    .default(true)
    .describe("Run the event producer's Kafka client on a worker thread (KAFKA_PRODUCER_THREAD)"),
  connectionTimeoutMs: z.number().int().positive().default(3000),
  requestTimeoutMs: z.number().int().positive().default(30000),
});

export type KafkaSettings = z.infer<typeof kafkaConfigSchema>;

export type KafkaClient = Kafka;

/** Reads Kafka settings from the environment (KAFKA_BROKERS etc.). */
export function kafkaSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSettings {
  const mechanism = env.KAFKA_SASL_MECHANISM;
  return kafkaConfigSchema.parse({
    brokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    clientId: env.KAFKA_CLIENT_ID ?? 'tributary',
    ssl: env.KAFKA_SSL === 'true',
    producerThread: env.KAFKA_PRODUCER_THREAD !== 'false',
    ...(mechanism
      ? {
          sasl: {
            mechanism,
            username: env.KAFKA_SASL_USERNAME ?? '',
            password: env.KAFKA_SASL_PASSWORD ?? '',
          },
        }
      : {}),
  });
}

const levelNames: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

const settingsByClient = new WeakMap<KafkaClient, KafkaSettings>();

/** The settings a client was built with, for the clients of other libraries (producer-client.ts). */
export function kafkaSettingsOf(kafka: KafkaClient): KafkaSettings {
  const settings = settingsByClient.get(kafka);
  if (!settings) throw new Error('this Kafka client was not built by createKafka');
  return settings;
}

/** Builds the kafkajs client; its log lines go to our structured logger. */
export function createKafka(settings: KafkaSettings, logger?: Logger): KafkaClient {
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl,
    connectionTimeout: settings.connectionTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    logLevel: logLevel.WARN,
    ...(settings.sasl ? { sasl: settings.sasl as SASLOptions } : {}),
  };
  if (logger) {
    const kafkaLogger = logger.child({ lib: 'kafkajs' });
    config.logCreator =
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        kafkaLogger[levelNames[level] ?? 'info'](extra, message);
      };
  }
  const kafka = new Kafka(config);
  settingsByClient.set(kafka, settings);
  return kafka;
}

/**
 * An idempotent, ordered producer: the only kind the hub uses. One request in flight keeps the
 * order per key across retries; the murmur2 partitioner is the Java client's, so a key lands in
 * the same partition whichever language wrote it.
 */
export function createIdempotentProducer(
  kafka: KafkaClient,
  options: { allowAutoTopicCreation?: boolean } = {},
): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: options.allowAutoTopicCreation ?? false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

const defaultPartitioner = Partitioners.DefaultPartitioner();

/**
 * The partition kafkajs' default partitioner (Java-compatible murmur2 on the key, round robin
 * without a key) gives `message` on a topic of `partitions` partitions. The producer pins
 * partitions itself so it can check that the broker acknowledged every one it wrote to. A keyed
 * record takes `murmur2` below (the same numbers without kafkajs' 64-bit Long arithmetic: it was
 * a few per cent of the ingest benchmark); a keyless one kafkajs' round robin.
 */
export function assignPartition(
  topic: string,
  partitions: number,
  message: { key: Buffer | string | null; partition?: number },
): number {
  if (message.partition !== undefined) return message.partition;
  if (message.key !== null && message.key !== undefined) {
    const key = typeof message.key === 'string' ? Buffer.from(message.key) : message.key;
    return (murmur2(key) & 0x7fffffff) % partitions;
  }
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));
  return defaultPartitioner({ topic, partitionMetadata, message: { key: message.key, value: null } });
}

/** Kafka's murmur2 (Utils.murmur2 of the Java client) in 32-bit integer arithmetic. */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const end = length & ~3;
  for (let i = 0; i < end; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[end + 2]! << 16;
  if (rest >= 2) h ^= data[end + 1]! << 8;
  if (rest >= 1) {
    h ^= data[end]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}
