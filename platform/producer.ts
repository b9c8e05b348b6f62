import type { Producer } from 'kafkajs';
import { HubError, toHubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { HubEvent, Serde } from '../schemas/index.ts';
import { createIdempotentProducer, type KafkaClient } from './kafka.ts';
import { fromKafkaError } from './kafka-errors.ts';
import type { RawRecord, RecordMetadata } from './records.ts';

/** Content type stamped on every event the hub writes: Avro in the Confluent wire format. */
export const AVRO_CONTENT_TYPE = 'application/vnd.tributary.avro+confluent';

/** Header names the producer sets on every event (`traceparent` only when given). */
export const EventHeaders = {
  contentType: 'content-type',
  traceparent: 'traceparent',
  eventId: 'tributary.event.id',
  eventType: 'tributary.event.type',
} as const;

export interface PublishOptions {
  /** Extra headers, e.g. replay markers. */
  headers?: Record<string, string | Buffer>;
  /** W3C trace context of the work that produced these events. */
  traceparent?: string;
}

/** The hub's one way to write to Kafka: idempotent, acks=all, keyed by entity. */
export interface EventProducer {
  start(): Promise<void>;
  /** Encodes every event first (nothing is sent if one is invalid), then sends them in one batch. */
  publish(topic: string, events: HubEvent<unknown>[], options?: PublishOptions): Promise<RecordMetadata[]>;
  /** Sends records byte for byte as given (DLQ, replay, redrive). */
  publishRaw(topic: string, records: RawRecord[]): Promise<RecordMetadata[]>;
  close(): Promise<void>;
}

export interface EventProducerOptions {
  kafka: KafkaClient;
  serde: Serde;
  logger?: Logger;
  /** Off by default: the topology creates topics with their declared settings. */
  allowAutoTopicCreation?: boolean;
}

/** Creates the idempotent event producer; it connects on `start()` or on first use. */
export function createEventProducer(options: EventProducerOptions): EventProducer {
  const { kafka, serde } = options;
  const producer: Producer = createIdempotentProducer(kafka, {
    allowAutoTopicCreation: options.allowAutoTopicCreation ?? false,
  });
  let connected: Promise<void> | undefined;
  let closed = false;

  function start(): Promise<void> {
    if (closed) return Promise.reject(new HubError('PLATFORM_CLOSED', 'the event producer is closed'));
    connected ??= producer.connect().catch((err: unknown) => {
      connected = undefined;
      throw new HubError('KAFKA_CONNECT', `producer could not connect: ${(err as Error).message}`, {
        retriable: true,
        cause: err,
        hint: 'check KAFKA_BROKERS and that the brokers are reachable',
      });
    });
    return connected;
  }

  async function send(topic: string, messages: RawRecord[]): Promise<RecordMetadata[]> {
    await start();
    try {
      const answer = await producer.send({ topic, acks: -1, messages });
      return answer.map((m) => ({
        topic: m.topicName,
        partition: m.partition,
        baseOffset: m.baseOffset ?? '-1',
      }));
    } catch (err) {
      throw fromKafkaError(err, 'KAFKA_SEND', { topic });
    }
  }

  async function encodeAll(
    topic: string,
    events: HubEvent<unknown>[],
    opts: PublishOptions,
  ): Promise<RawRecord[]> {
    const records: RawRecord[] = [];
    for (const [index, event] of events.entries()) {
      let value: Buffer;
      try {
        value = await serde.encode(topic, event.envelope.type, event);
      } catch (err) {
        const hubError = toHubError(err, 'SCHEMA_VALIDATION', { topic });
        // Say which event of the batch was wrong; the serde already named the field.
        hubError.where.index ??= index;
        hubError.where.subject ??= event.envelope.subject;
        throw hubError;
      }
      records.push({
        key: event.envelope.subject,
        value,
        headers: {
          ...opts.headers,
          [EventHeaders.contentType]: AVRO_CONTENT_TYPE,
          [EventHeaders.eventId]: event.envelope.id,
          [EventHeaders.eventType]: event.envelope.type,
          ...(opts.traceparent ? { [EventHeaders.traceparent]: opts.traceparent } : {}),
        },
      });
    }
    return records;
  }

  return {
    start,
    async publish(topic, events, opts = {}) {
      if (events.length === 0) return [];
      const records = await encodeAll(topic, events, opts);
      return send(topic, records);
    },
    publishRaw(topic, records) {
      if (records.length === 0) return Promise.resolve([]);
      return send(topic, records);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (connected) await connected.catch(() => undefined);
      await producer.disconnect();
    },
  };
}
