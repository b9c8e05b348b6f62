import { Worker } from 'node:worker_threads';
import { type KafkaClient, kafkaSettingsOf } from './kafka.ts';
import { type RecordSender, RelayedClientError } from './producer-client.ts';
import { packRecords, transferables } from './record-columns.ts';
import type { SendRequest, SendResult, WorkerReply } from './thread-sender-worker.ts';

/**
 * A RecordSender whose @platformatic/kafka producer runs on a worker thread of its own
 * (KAFKA_PRODUCER_THREAD, on by default): the event loop that maps and encodes events hands each
 * batch over and goes on, while the worker builds the produce requests, checksums them and
 * talks to the brokers. On 2 cores the ingest benchmark's connector loop sent 11 % to 19 % more
 * events/s with it than with the client on the main thread (both lines in bench/RESULTS.md). The
 * price is memory: the thread loads its own copy of the client's modules, about 75 MiB resident.
 *
 * A batch crosses as columns (record-columns.ts): the values in one transferred buffer, the
 * headers as columns of strings. Client failures come back as
 * RelayedClientError carrying the broker's error name, the description and whether a retry can
 * help, as producer-client.ts reads them off the client's own error. The worker starts on first
 * use; should it die, the calls in flight fail (retriable) and the next call starts a new one,
 * which is a new idempotent producer, as after a producer reset.
 */
export function createThreadRecordSender(
  kafka: KafkaClient,
  options: {
    allowAutoTopicCreation?: boolean;
    /** The thread's script; thread-sender-worker.ts unless a test gives a stand-in. */
    workerUrl?: URL;
  } = {},
): RecordSender {
  const workerUrl = options.workerUrl ?? new URL('./thread-sender-worker.ts', import.meta.url);
  const workerData = {
    settings: kafkaSettingsOf(kafka),
    allowAutoTopicCreation: options.allowAutoTopicCreation ?? false,
  };
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let worker: Worker | undefined;
  let closed = false;
  /** Per topic, the partition count the thread's client had after the last send or lookup. */
  const counts = new Map<string, number>();

  const spawn = (): Worker => {
    const w = new Worker(workerUrl, { workerData });
    // Referenced only while a call waits for it: an idle producer never keeps the process alive.
    w.unref();
    const lost = (err: Error) => {
      if (worker !== w) return;
      worker = undefined;
      const failure = { message: err.message, brokerError: undefined, retriable: true };
      for (const call of calls.values()) call.reject(new RelayedClientError(failure));
      calls.clear();
    };
    w.on('message', (reply: WorkerReply) => {
      const call = calls.get(reply.id);
      if (!call) return;
      calls.delete(reply.id);
      if (calls.size === 0) w.unref();
      if ('failure' in reply) call.reject(new RelayedClientError(reply.failure));
      else call.resolve(reply.result);
    });
    w.on('error', (err) => lost(new Error(`the producer thread failed: ${err.message}`)));
    w.on('exit', (code) => lost(new Error(`the producer thread stopped (exit code ${code})`)));
    return w;
  };

  function call<T>(request: DistributiveOmit<SendRequest, 'id'>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (closed) return Promise.reject(new Error('the producer thread is closed'));
    worker ??= spawn();
    const w = worker;
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.ref();
      w.postMessage({ ...request, id }, transfer);
    });
  }

  return {
    connect: () => call({ op: 'connect' }),
    async send(topic, records) {
      const batch = packRecords(records);
      try {
        const result = await call<SendResult>({ op: 'send', topic, batch }, transferables(batch));
        counts.set(topic, result.partitionCount);
        return result.acked;
      } catch (err) {
        counts.delete(topic);
        throw err;
      }
    },
    async partitionCount(topic, fresh) {
      // The client's cached count as the last send left it: no round trip to the thread per send.
      const known = fresh ? undefined : counts.get(topic);
      if (known !== undefined) return known;
      const count = await call<number>({ op: 'partitionCount', topic, fresh });
      counts.set(topic, count);
      return count;
    },
    async close() {
      const w = worker;
      if (closed || !w) {
        closed = true;
        return;
      }
      // The worker's close waits for the sends queued before it.
      await call({ op: 'close' }).catch(() => undefined);
      closed = true;
      worker = undefined;
      await w.terminate();
    },
  };
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
