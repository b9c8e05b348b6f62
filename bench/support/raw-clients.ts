import { silentLogger } from '../../core/logger.ts';
import {
  AVRO_CONTENT_TYPE,
  createIdempotentProducer,
  createKafka,
  EventHeaders,
  type KafkaSettings,
} from '../../platform/index.ts';
import { assignPartition } from '../../platform/kafka.ts';
import { createRecordSender } from '../../platform/producer-client.ts';

/** One timed publishing run. */
export interface Run {
  events: number;
  valueBytes: number;
  seconds: number;
}

const SCHEMA = 'tributary.erp.SalesOrderChanged';

export type RawClient = 'kafkajs' | 'platformatic';

/**
 * A raw client, idempotent and acks=all, no serde: the same framed bytes, keys and headers, on
 * the main thread (the raw @platformatic/kafka client as the hub ran it before it had a thread).
 */
export async function publishRaw(
  client: RawClient,
  settings: KafkaSettings,
  topic: string,
  values: Buffer[],
  events: number,
  page: number,
) {
  const kafka = createKafka(settings, silentLogger());
  const send = await rawSender(client, kafka, topic);
  const headers = (i: number) => ({
    [EventHeaders.contentType]: AVRO_CONTENT_TYPE,
    [EventHeaders.eventId]: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    [EventHeaders.eventType]: SCHEMA,
  });
  try {
    // Warm-up: connection, metadata and producer id, as the platform run gets.
    await send.batch([{ key: 'warm-up', value: values[0]!, headers: headers(0) }]);
    let valueBytes = 0;
    const start = performance.now();
    for (let sent = 0; sent < events; sent += page) {
      const messages = [];
      for (let i = sent; i < Math.min(events, sent + page); i += 1) {
        const value = values[i % values.length]!;
        valueBytes += value.length;
        messages.push({ key: `SO-${String(i).padStart(8, '0')}`, value, headers: headers(i) });
      }
      await send.batch(messages);
    }
    return { events, valueBytes, seconds: (performance.now() - start) / 1000 };
  } finally {
    await send.close();
  }
}

type RawMessage = { key: string; value: Buffer; headers: Record<string, string> };

async function rawSender(client: RawClient, kafka: ReturnType<typeof createKafka>, topic: string) {
  if (client === 'kafkajs') {
    const producer = createIdempotentProducer(kafka);
    await producer.connect();
    return {
      batch: (messages: RawMessage[]) => producer.send({ topic, acks: -1, messages }),
      close: () => producer.disconnect(),
    };
  }
  const sender = createRecordSender(kafka);
  const partitions = await sender.partitionCount(topic, true);
  return {
    batch: (messages: RawMessage[]) =>
      sender.send(
        topic,
        messages.map((m) => ({ ...m, partition: assignPartition(topic, partitions, m) })),
      ),
    close: () => sender.close(),
  };
}
