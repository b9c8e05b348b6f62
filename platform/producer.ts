import { HubError, toHubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { loopSlices } from '../core/loop-slices.ts';
import type { HubEvent, Serde } from '../schemas/index.ts';
import { assignPartition, type KafkaClient, kafkaSettingsOf } from './kafka.ts';
import { createPartitionCounts } from './partition-counts.ts';
import {
  brokerErrorName,
  createRecordSender,
  describeClientError,
  isRetriableClientError,
  producerResetErrors,
  type RecordSender,
} from './producer-client.ts';
import { createPublishPipeline, type PublishPipeline, type PublishVia } from './publish-pipeline.ts';
import type { RawRecord, RecordMetadata } from './records.ts';
import { createThreadRecordSender } from './thread-sender.ts';
import { outsideTrace, withSendSpan } from './tracing.ts';

/** Content type stamped on every event the hub writes: Avro in the Confluent wire format. */
export const AVRO_CONTENT_TYPE = 'application/vnd.tributary.avro+confluent';

/**
 * Header names the producer sets on every event; `traceparent`/`tracestate` when given, or
 * from the active trace context (see tracing.ts).
 */
export const EventHeaders = {
  contentType: 'content-type',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  eventId: 'tributary.event.id',
  eventType: 'tributary.event.type',
} as const;

export interface PublishOptions {
  /** Extra headers, e.g. replay markers. */
  headers?: Record<string, string | Buffer>;
  /** W3C trace context of the work that produced these events; the active context when omitted. */
  traceparent?: string;
  /** W3C `tracestate` that goes with an explicit `traceparent`. */
  tracestate?: string;
}

/** The hub's one way to write to Kafka: idempotent, acks=all, keyed by entity. */
export interface EventProducer {
  start(): Promise<void>;
  /** Encodes every event first (nothing is sent if one is invalid), then sends them in one batch. */
  publish(topic: string, events: HubEvent<unknown>[], options?: PublishOptions): Promise<RecordMetadata[]>;
  /**
   * Publishes batches to `topic` with the encoding of one overlapping the send of the one before
   * (`depth` batches unacknowledged at most, default 2); see publish-pipeline.ts.
   */
  pipeline(topic: string, options?: { depth?: number }): PublishPipeline;
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
  /**
   * The Kafka client on a worker thread of its own (thread-sender.ts); default: the settings'
   * `producerThread` (KAFKA_PRODUCER_THREAD). Worth it where this thread encodes events; a
   * producer that only forwards encoded bytes (replay lanes) does better without the hand-over.
   */
  thread?: boolean;
}

/** Creates the idempotent event producer; it connects on `start()` or on first use. */
export function createEventProducer(options: EventProducerOptions): EventProducer {
  const { kafka, serde } = options;
  const thread = options.thread ?? kafkaSettingsOf(kafka).producerThread;
  const newSender = (): RecordSender =>
    (thread ? createThreadRecordSender : createRecordSender)(kafka, {
      allowAutoTopicCreation: options.allowAutoTopicCreation ?? false,
    });
  let sender = newSender();
  let connected: Promise<void> | undefined;
  let closed = false;
  const partitionCounts = createPartitionCounts(kafka);

  function start(): Promise<void> {
    if (closed) return Promise.reject(new HubError('PLATFORM_CLOSED', 'the event producer is closed'));
    // Connections outlive the send that opened them: keep them out of its trace. Reading the
    // cluster metadata is the connect: it fails here when no broker answers.
    connected ??= outsideTrace(() => sender.connect()).catch((err: unknown) => {
      connected = undefined;
      throw new HubError('KAFKA_CONNECT', `producer could not connect: ${(err as Error).message}`, {
        retriable: true,
        cause: err,
        hint: 'check KAFKA_BROKERS and that the brokers are reachable',
      });
    });
    return connected;
  }

  /**
   * A fenced or confused idempotent producer (sequence out of order, unknown producer id, old
   * epoch) may not recover by itself: replace it, so the next send starts a new producer id.
   */
  async function replaceSender(): Promise<void> {
    const old = sender;
    sender = newSender();
    connected = undefined;
    partitionCounts.forget();
    await old.close().catch(() => undefined);
  }

  /** Our partition count, checked against the sending client's metadata (a partition added). */
  async function partitionsOf(topic: string): Promise<number> {
    const ours = await partitionCounts.of(topic);
    if ((await sender.partitionCount(topic, false)) === ours) return ours;
    if ((await sender.partitionCount(topic, true)) === ours) return ours;
    partitionCounts.forget(topic);
    throw new HubError('KAFKA_SEND_INCOMPLETE', `the partition count of ${topic} is changing; send again`, {
      retriable: true,
      where: { topic },
    });
  }

  async function send(topic: string, messages: RawRecord[]): Promise<RecordMetadata[]> {
    await start();
    const partitions = await partitionsOf(topic);
    const pinned = messages.map((m) => ({ ...m, partition: assignPartition(topic, partitions, m) }));
    let answer: Awaited<ReturnType<RecordSender['send']>>;
    try {
      answer = await sender.send(topic, pinned);
    } catch (err) {
      const name = brokerErrorName(err);
      if (name && (producerResetErrors as readonly string[]).includes(name)) {
        await replaceSender();
        throw new HubError('KAFKA_PRODUCER_RESET', `producer state was lost (${name}); send again`, {
          retriable: true,
          cause: err,
          where: { topic },
        });
      }
      throw new HubError('KAFKA_SEND', describeClientError(err), {
        retriable: isRetriableClientError(err),
        cause: err,
        where: { topic },
        hint: 'check that the brokers are reachable (KAFKA_BROKERS) and the topic exists (tributary topology apply)',
      });
    }
    const missing = unacknowledgedPartitions(pinned, answer);
    if (missing.length > 0) {
      // A send must never resolve with a partition unwritten (kafkajs did, tulios/kafkajs#1303);
      // report it so the caller sends the batch again.
      partitionCounts.forget(topic);
      throw new HubError(
        'KAFKA_SEND_INCOMPLETE',
        `the broker acknowledged no write to partition(s) ${missing.join(', ')} of ${topic}`,
        { retriable: true, where: { topic, partition: missing[0] } },
      );
    }
    return answer.map((m) => ({ topic, partition: m.partition, baseOffset: m.baseOffset }));
  }

  async function encodeAll(
    topic: string,
    events: HubEvent<unknown>[],
    opts: PublishOptions,
    trace: Record<string, string>,
  ): Promise<RawRecord[]> {
    const records: RawRecord[] = [];
    // Acknowledgements of earlier sends are handled between slices, not after the whole batch.
    const slices = loopSlices();
    for (let index = 0; index < events.length; index += 1) {
      if (slices.due()) await slices.turn();
      const event = events[index]!;
      let value: Buffer;
      try {
        const type = event.envelope.type;
        value = serde.encodeReady?.(topic, type, event) ?? (await serde.encode(topic, type, event));
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
          ...trace,
          [EventHeaders.contentType]: AVRO_CONTENT_TYPE,
          [EventHeaders.eventId]: event.envelope.id,
          [EventHeaders.eventType]: event.envelope.type,
        },
      });
    }
    return records;
  }

  /** Encodes `events` (all or nothing), then hands the records to `sendRecords` in a send span. */
  const publishVia: PublishVia = async (topic, events, opts = {}, sendRecords) => {
    if (events.length === 0) return [];
    if (opts.traceparent) {
      const given = {
        [EventHeaders.traceparent]: opts.traceparent,
        ...(opts.tracestate ? { [EventHeaders.tracestate]: opts.tracestate } : {}),
      };
      return sendRecords(await encodeAll(topic, events, opts, given));
    }
    if (opts.headers?.[EventHeaders.traceparent] !== undefined)
      return sendRecords(await encodeAll(topic, events, opts, {}));
    // The send continues the active trace (a PRODUCER span) and its records carry it.
    return withSendSpan(topic, events.length, async (trace) =>
      sendRecords(await encodeAll(topic, events, opts, trace)),
    );
  };

  return {
    start,
    publish(topic, events, opts) {
      return publishVia(topic, events, opts, (records) => send(topic, records));
    },
    pipeline(topic, pipelineOptions = {}) {
      return createPublishPipeline(topic, pipelineOptions.depth ?? 2, publishVia, (records) =>
        send(topic, records),
      );
    },
    publishRaw(topic, records) {
      if (records.length === 0) return Promise.resolve([]);
      return send(topic, records);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (connected) await connected.catch(() => undefined);
      await sender.close();
    },
  };
}

/** Partitions records were sent to that the broker's answer does not acknowledge. */
export function unacknowledgedPartitions(
  sent: readonly { partition: number }[],
  answer: readonly { partition: number; errorCode?: number }[],
): number[] {
  const acked = new Set(answer.filter((a) => (a.errorCode ?? 0) === 0).map((a) => a.partition));
  return [...new Set(sent.map((m) => m.partition))].filter((p) => !acked.has(p)).sort((a, b) => a - b);
}
