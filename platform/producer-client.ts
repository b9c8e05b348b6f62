import {
  findErrorBy,
  type MessageToProduce,
  ProduceAcks,
  Producer,
  type SASLOptions,
} from '@platformatic/kafka';
import { HubError } from '../core/errors.ts';
import { type KafkaClient, kafkaSettingsOf } from './kafka.ts';
import type { RawRecord } from './records.ts';

/**
 * The one place that builds a @platformatic/kafka producer: the hub's event producer writes
 * through it. kafkajs (no release since 2023) reached 40 % of the Java producer's rate on 1 KB
 * records here, @platformatic/kafka (kept up, pure JavaScript) more than the Java producer; see
 * bench/RESULTS.md. Everything else in the hub still talks to Kafka through kafkajs.
 */

/** A record with the partition the caller chose for it (see assignPartition). */
export type PinnedRecord = RawRecord & { partition: number };

/** A partition the broker acknowledged, with the offset of the first record written there. */
export interface AckedPartition {
  partition: number;
  baseOffset: string;
}

/** Sends pinned records idempotently (acks=all), one request in flight at a time. */
export interface RecordSender {
  /** Reads the cluster's broker list: fails when no bootstrap broker answers. */
  connect(): Promise<void>;
  send(topic: string, records: PinnedRecord[]): Promise<AckedPartition[]>;
  /** The partition count this client's own metadata has for `topic` (re-read when `fresh`). */
  partitionCount(topic: string, fresh: boolean): Promise<number>;
  close(): Promise<void>;
}

/** What a client failure on the producer thread (thread-sender.ts) said, as read there. */
export interface RelayedFailure {
  message: string;
  brokerError: string | undefined;
  retriable: boolean;
}

/** A client failure relayed from the producer thread: read by the functions below as the original. */
export class RelayedClientError extends Error {
  readonly failure: RelayedFailure;
  constructor(failure: RelayedFailure) {
    super(failure.message);
    this.name = 'RelayedClientError';
    this.failure = failure;
  }
}

/** Broker answers after which an idempotent producer must start over with a new producer id. */
export const producerResetErrors = [
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
] as const;

const saslMechanisms = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/** Waits 250 ms, 500 ms, 1 s, ... up to 5 s between the client's own retries of a request. */
function retryDelay(_client: unknown, _operation: string, attempt: number): number {
  return Math.min(250 * 2 ** (attempt - 1), 5000);
}

/** Client id, brokers, timeouts, TLS and SASL of a @platformatic/kafka client, from the hub's settings. */
export function clientOptions(kafka: KafkaClient) {
  const settings = kafkaSettingsOf(kafka);
  return {
    clientId: settings.clientId,
    bootstrapBrokers: settings.brokers,
    connectTimeout: settings.connectionTimeoutMs,
    timeout: settings.requestTimeoutMs,
    ...(settings.ssl ? { tls: {} } : {}),
    ...(settings.sasl
      ? {
          sasl: {
            mechanism: saslMechanisms[settings.sasl.mechanism],
            username: settings.sasl.username,
            password: settings.sasl.password,
          } as SASLOptions,
        }
      : {}),
  };
}

export function createRecordSender(
  kafka: KafkaClient,
  options: { allowAutoTopicCreation?: boolean } = {},
): RecordSender {
  const autocreateTopics = options.allowAutoTopicCreation ?? false;
  const producer = new Producer({
    ...clientOptions(kafka),
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics,
    retries: 6,
    retryDelay,
    repeatOnStaleMetadata: true,
  });
  // One send at a time: with retries inside the client, a second batch in flight could overtake
  // the first and break the order per key (kafkajs' maxInFlightRequests=1 gave the same rule).
  let queue: Promise<unknown> = Promise.resolve();

  async function sendNow(topic: string, records: PinnedRecord[]): Promise<AckedPartition[]> {
    const acked: AckedPartition[] = [];
    const repeated = new Map<string, [string, Buffer]>();
    for (const group of timestampGroups(records)) {
      const messages = group.map((r) => {
        const message: MessageToProduce<Buffer, Buffer, Buffer, Buffer> = {
          topic,
          partition: r.partition,
          key: typeof r.key === 'string' ? Buffer.from(r.key) : (r.key ?? undefined),
          value: r.value ?? undefined,
          headers: headerMap(r.headers, repeated),
        };
        if (r.timestamp !== undefined) message.timestamp = BigInt(r.timestamp);
        return message;
      });
      const answer = await producer.send({ messages });
      for (const o of answer.offsets ?? []) {
        if (o.topic !== topic || acked.some((a) => a.partition === o.partition)) continue;
        acked.push({ partition: o.partition, baseOffset: o.offset.toString() });
      }
    }
    return acked;
  }

  return {
    async connect() {
      await producer.metadata({ topics: [] });
    },
    send(topic, records) {
      const sent = queue.then(() => sendNow(topic, records));
      queue = sent.catch(() => undefined);
      return sent;
    },
    async partitionCount(topic, fresh) {
      const metadata = await producer.metadata({ topics: [topic], autocreateTopics, forceUpdate: fresh });
      return metadata.topics.get(topic)?.partitionsCount ?? 0;
    },
    async close() {
      await queue;
      await producer.close();
    },
  };
}

/**
 * Splits records so that within one send no timestamp is 2^31 ms (24.8 days) or more away from
 * the first one's. @platformatic/dynamic-buffer 0.3.1 zigzag-encodes the 64-bit timestamp delta
 * with a 31-bit shift, so a larger delta is stored wrong (a replay of old records next to new
 * ones came back 13 ms off; test/platform/producer-client.test.ts).
 */
export function timestampGroups<R extends { timestamp?: string }>(records: R[]): R[][] {
  const limit = 2 ** 31 - 1;
  const now = Date.now();
  const groups: R[][] = [];
  let first = 0;
  for (const record of records) {
    const ts = record.timestamp === undefined ? now : Number(record.timestamp);
    const current = groups.at(-1);
    if (current && Math.abs(ts - first) < limit) current.push(record);
    else {
      groups.push([record]);
      first = ts;
    }
  }
  return groups;
}

/** Header names as bytes, made once: every event carries the same few. */
const headerNames = new Map<string, Buffer>();

function headerName(name: string): Buffer {
  let bytes = headerNames.get(name);
  if (!bytes) {
    bytes = Buffer.from(name);
    if (headerNames.size < 1024) headerNames.set(name, bytes);
  }
  return bytes;
}

/**
 * Headers as the client takes them. `repeated` keeps the last value per name of one send: the
 * content type and the event type repeat on every record of a batch, so their bytes are made once.
 */
function headerMap(headers: RawRecord['headers'], repeated: Map<string, [string, Buffer]>) {
  if (!headers) return undefined;
  const map = new Map<Buffer, Buffer>();
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value)) {
      map.set(headerName(name), headerValue(name, value, repeated));
      continue;
    }
    // A repeated header needs a key object of its own per value (the map's keys are objects).
    for (const [i, one] of value.entries())
      map.set(i === 0 ? headerName(name) : Buffer.from(name), headerValue(name, one, repeated));
  }
  return map;
}

/** A header value's bytes; a text equal to the last one under the same name reuses its bytes. */
function headerValue(name: string, value: string | Buffer, repeated: Map<string, [string, Buffer]>): Buffer {
  if (typeof value !== 'string') return value;
  const last = repeated.get(name);
  if (last && last[0] === value) return last[1];
  const bytes = Buffer.from(value);
  repeated.set(name, [value, bytes]);
  return bytes;
}

/** The broker's error name inside a client failure (e.g. `NOT_LEADER_OR_FOLLOWER`), if any. */
export function brokerErrorName(err: unknown): string | undefined {
  if (err instanceof RelayedClientError) return err.failure.brokerError;
  if (!(err instanceof Error)) return undefined;
  for (const name of producerResetErrors) if (findErrorBy(err, 'apiId', name)) return name;
  for (const { error } of nestedErrors(err)) {
    const apiId = (error as { apiId?: unknown }).apiId;
    if (typeof apiId === 'string') return apiId;
  }
  return undefined;
}

/**
 * A client failure and every error under it (its `errors` and `cause`), each once, depth first;
 * `leaf` when nothing is under it.
 */
function* nestedErrors(err: Error): Generator<{ error: Error; leaf: boolean }> {
  const seen = new Set<Error>();
  const stack: Error[] = [err];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (seen.has(e)) continue;
    seen.add(e);
    const inner = [...(((e as { errors?: unknown }).errors as unknown[] | undefined) ?? []), e.cause].filter(
      (i): i is Error => i instanceof Error,
    );
    yield { error: e, leaf: inner.length === 0 };
    stack.push(...inner.reverse());
  }
}

/** False when the client itself says retrying cannot help (e.g. the record is too large). */
export function isRetriableClientError(err: unknown): boolean {
  if (err instanceof HubError) return err.retriable;
  if (err instanceof RelayedClientError) return err.failure.retriable;
  return !(err instanceof Error && findErrorBy(err, 'canRetry', false));
}

/** The client's message with the distinct causes under it ("produce failed 7 times." alone says little). */
export function describeClientError(err: unknown): string {
  if (err instanceof RelayedClientError) return err.message;
  if (!(err instanceof Error)) return String(err);
  const causes = new Set<string>();
  for (const { error, leaf } of nestedErrors(err)) if (leaf && error !== err) causes.add(error.message);
  return causes.size > 0 ? `${err.message} (${[...causes].join('; ')})` : err.message;
}
