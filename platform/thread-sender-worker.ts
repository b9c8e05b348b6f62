import { parentPort, workerData } from 'node:worker_threads';
import { silentLogger } from '../core/logger.ts';
import { createKafka, type KafkaSettings } from './kafka.ts';
import {
  type AckedPartition,
  brokerErrorName,
  createRecordSender,
  describeClientError,
  isRetriableClientError,
  type RelayedFailure,
} from './producer-client.ts';
import { type PackedRecords, unpackRecords } from './record-columns.ts';

/**
 * The producer thread of thread-sender.ts: one @platformatic/kafka producer (producer-client.ts)
 * answering connect, send, partitionCount and close in the order they arrive.
 */

/** A request to the producer thread (thread-sender.ts). */
export type SendRequest = { id: number } & (
  | { op: 'connect' }
  | { op: 'close' }
  | { op: 'partitionCount'; topic: string; fresh: boolean }
  | { op: 'send'; topic: string; batch: PackedRecords }
);

/** What a send answers: the acknowledged partitions and the topic's partition count after it. */
export interface SendResult {
  acked: AckedPartition[];
  partitionCount: number;
}

export type WorkerReply = { id: number } & ({ result: unknown } | { failure: RelayedFailure });

const { settings, allowAutoTopicCreation } = workerData as {
  settings: KafkaSettings;
  allowAutoTopicCreation: boolean;
};
const sender = createRecordSender(createKafka(settings, silentLogger()), { allowAutoTopicCreation });
const port = parentPort!;

async function answer(request: SendRequest): Promise<unknown> {
  switch (request.op) {
    case 'connect':
      return sender.connect();
    case 'close':
      return sender.close();
    case 'partitionCount':
      return sender.partitionCount(request.topic, request.fresh);
    case 'send': {
      const acked = await sender.send(request.topic, unpackRecords(request.batch));
      // The count the client's metadata has now: the sending thread's next send reads it here.
      const partitionCount = await sender.partitionCount(request.topic, false);
      return { acked, partitionCount } satisfies SendResult;
    }
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
