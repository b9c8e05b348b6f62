import { parentPort, workerData } from 'node:worker_threads';

/**
 * The producer thread of thread-sender.ts: one @platformatic/kafka producer (producer-client.ts)
 * answering connect, send, partitionCount and close in the order they arrive.
 */
import { silentLogger } from '../core/logger.ts';
import { createKafka, type KafkaSettings } from './kafka.ts';
import {
  brokerErrorName,
  createRecordSender,
  describeClientError,
  isRetriableClientError,
  type PinnedRecord,
  type RelayedFailure,
} from './producer-client.ts';
import type { RawHeaders, RawRecord } from './records.ts';

/** A request to the producer thread (thread-sender.ts). */
export type SendRequest = { id: number } & (
  | { op: 'connect' }
  | { op: 'close' }
  | { op: 'partitionCount'; topic: string; fresh: boolean }
  | {
      op: 'send';
      topic: string;
      values: ArrayBuffer;
      lengths: number[];
      keys: RawRecord['key'][];
      headers: RawRecord['headers'][];
      timestamps: (string | undefined)[];
      partitions: number[];
    }
);

export type WorkerReply = { id: number } & ({ result: unknown } | { failure: RelayedFailure });

const { settings, allowAutoTopicCreation } = workerData as {
  settings: KafkaSettings;
  allowAutoTopicCreation: boolean;
};
const sender = createRecordSender(createKafka(settings, silentLogger()), { allowAutoTopicCreation });
const port = parentPort!;

/** A Buffer again: structured cloning turns a Buffer into a plain Uint8Array. */
const asBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);

function headersOf(headers: RawHeaders | undefined): RawHeaders | undefined {
  if (!headers) return headers;
  let copy: RawHeaders | undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string' || value === undefined) continue;
    copy ??= { ...headers };
    copy[name] = Array.isArray(value)
      ? value.map((v) => (typeof v === 'string' ? v : asBuffer(v)))
      : asBuffer(value);
  }
  return copy ?? headers;
}

function unpack(request: Extract<SendRequest, { op: 'send' }>): PinnedRecord[] {
  const records: PinnedRecord[] = new Array(request.lengths.length);
  let at = 0;
  for (let i = 0; i < records.length; i += 1) {
    const length = request.lengths[i]!;
    const value = length < 0 ? null : Buffer.from(request.values, at, length);
    if (length > 0) at += length;
    const key = request.keys[i] ?? null;
    const timestamp = request.timestamps[i];
    records[i] = {
      key: key === null || typeof key === 'string' ? key : asBuffer(key),
      value,
      headers: headersOf(request.headers[i]),
      partition: request.partitions[i]!,
      ...(timestamp !== undefined ? { timestamp } : {}),
    };
  }
  return records;
}

async function answer(request: SendRequest): Promise<unknown> {
  switch (request.op) {
    case 'connect':
      return sender.connect();
    case 'close':
      return sender.close();
    case 'partitionCount':
      return sender.partitionCount(request.topic, request.fresh);
    case 'send':
      return sender.send(request.topic, unpack(request));
  }
}

port.on('message', (request: SendRequest) => {
  answer(request).then(
    (result) => port.postMessage({ id: request.id, result } satisfies WorkerReply),
    (err: unknown) =>
      port.postMessage({
        id: request.id,
        failure: {
          message: describeClientError(err),
          brokerError: brokerErrorName(err),
          retriable: isRetriableClientError(err),
        },
      } satisfies WorkerReply),
  );
});
