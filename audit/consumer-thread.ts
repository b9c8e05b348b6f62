import { parentPort, workerData } from 'node:worker_threads';
import { type ErrorLocation, toHubError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { createHubContext, type HubSettings } from '../platform/index.ts';
import { type AuditConsumerConfig, createAuditConsumer } from './consumer.ts';

/**
 * One audit thread (see consumer-threads.ts): its own hub context (Kafka client, serde,
 * producer for the anchors) built from the hub's settings, and one audit consumer, a member of
 * the audit group writing the chains of the partitions it is given. It reports its start, its
 * status every `statusEveryMs`, and a failure that stops it; it closes when told to.
 */

export interface AuditThreadData {
  index: number;
  config: AuditConsumerConfig;
  settings: HubSettings;
  logLevel: string;
  statusEveryMs: number;
}

export type AuditThreadMessage =
  | { type: 'started' }
  | { type: 'failed'; error: SerializedError }
  | { type: 'status'; status: ReturnType<ReturnType<typeof createAuditConsumer>['status']> }
  | { type: 'stopped'; error: SerializedError }
  | { type: 'closed' };

export interface SerializedError {
  code: string;
  message: string;
  hint?: string;
  where?: ErrorLocation;
  retriable: boolean;
}

const serialize = (err: unknown): SerializedError => {
  const e = toHubError(err, 'AUDIT_THREAD_FAILED');
  return {
    code: e.code,
    message: e.message,
    retriable: e.retriable,
    ...(e.hint ? { hint: e.hint } : {}),
    ...(Object.keys(e.where).length > 0 ? { where: { ...e.where } } : {}),
  };
};

const data = workerData as AuditThreadData;
const port = parentPort!;
const post = (m: AuditThreadMessage) => port.postMessage(m);
const logger = createLogger('audit', { level: data.logLevel }).child({ thread: data.index });
// The anchors are few: their producer's client stays on this thread.
const hub = await createHubContext({
  ...data.settings,
  kafkaSettings: { ...data.settings.kafkaSettings, producerThread: false },
  logger,
});
// Its keys come with start(), from the key file or this thread's environment (the hub's).
const consumer = createAuditConsumer(data.config, {
  kafka: hub.kafka,
  serde: hub.serde,
  producer: hub.producer,
  logger,
});
const timer = setInterval(() => post({ type: 'status', status: consumer.status() }), data.statusEveryMs);

let closing: Promise<void> | undefined;
const close = () => {
  closing ??= (async () => {
    clearInterval(timer);
    await consumer.close().catch((err: unknown) => logger.error({ err }, 'closing the audit thread'));
    await hub.close().catch(() => {});
    post({ type: 'status', status: consumer.status() });
    post({ type: 'closed' });
    port.close();
  })();
  return closing;
};
port.on('message', (m: { type: 'close' }) => {
  if (m.type === 'close') void close();
});

void consumer.failed().then((err) => post({ type: 'stopped', error: serialize(err) }));
try {
  await consumer.start();
  post({ type: 'status', status: consumer.status() });
  post({ type: 'started' });
} catch (err) {
  post({ type: 'failed', error: serialize(err) });
  await close();
}
