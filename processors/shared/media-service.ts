import { HubError, toHubError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Component, ComponentDeps } from '../../platform/declaration.ts';
import {
  createActionEmitter,
  createDeadLetterWriter,
  createEventConsumer,
  createMemoryIdempotencyStore,
  createTopicIdempotencyStore,
  type EventConsumer,
  fromKafkaError,
  type HubContext,
  type IdempotencyStore,
} from '../../platform/index.ts';
import { type Envelope, type HubEvent, newEnvelope } from '../../schemas/index.ts';
import { type BlobStore, createLocalBlobStore } from '../blob-store/index.ts';
import { createLazyS3BlobStore } from './blob-store-choice.ts';
import { createJobRunner, type JobRunner } from './job-runner.ts';
import type { ProcessorBaseConfig } from './processor-config.ts';
import { createResultReporter } from './result-action.ts';

export const PROGRESS_TOPIC = 'media.job.progress';
export const PROGRESS_TYPE = 'tributary.media.JobProgress';

/** What a job handler gets besides the request data. */
export interface JobContext {
  signal: AbortSignal;
  request: Envelope;
  blobs: BlobStore;
  logger: Logger;
  /** Emits a progress event (best effort: a failure to send it never fails the job). */
  progress(stage: string, percent?: number | null, message?: string | null): Promise<void>;
}

/** A result event's data without the fields the service fills in. */
export type ResultBody<Res> = Omit<Res, 'requestId' | 'status' | 'error'>;

/** One request/response media job: its topics, its event types and how to do it. */
export interface MediaJobSpec<Req, Res> {
  component: string;
  command: string;
  requestTopic: string;
  resultTopic: string;
  resultType: string;
  handle(data: Req, job: JobContext): Promise<ResultBody<Res>>;
  /** The body of a failed result (provider name and the like) for this request. */
  failed(data: Req, error: HubError): ResultBody<Res>;
}

export interface MediaService extends Component {
  pause(): void;
  resume(): void;
  readonly runner: JobRunner;
  status(): Record<string, unknown>;
}

/** The hub context a processor works with. */
export function hubContextOf(deps: ComponentDeps, _component: string): HubContext {
  return deps.hub;
}

/**
 * Runs media jobs from Kafka: consumes the request topics, runs each job in a bounded pool
 * with a timeout and a breaker, and emits a result event carrying the request's correlation
 * id. A job that can never succeed (or has used up its retries) emits a failed result and then
 * goes to `<request topic>.dlq` with the reason; the consumer keeps going. The consumer is
 * paused while the pool is full or the breaker is open, so nothing piles up in memory.
 */
export function createMediaService(
  // biome-ignore lint/suspicious/noExplicitAny: each job has its own request and result types.
  specs: MediaJobSpec<any, any>[],
  config: ProcessorBaseConfig,
  deps: ComponentDeps,
  options: { name: string; onClose?: () => Promise<void>; blobs?: BlobStore },
): MediaService {
  const hub = hubContextOf(deps, options.name);
  const logger = deps.logger.child({ processor: options.name });
  const blobs =
    options.blobs ??
    (config.blobS3 ? createLazyS3BlobStore(config.blobS3) : createLocalBlobStore(config.blobDir));
  const topic = (name: string) => `${config.topicPrefix}${name}`;
  const byTopic = new Map(specs.map((spec) => [topic(spec.requestTopic), spec]));
  const pausedBy = new Set<'pool' | 'breaker' | 'operator'>();
  let consumer: EventConsumer | undefined;
  let closed: Promise<void> | undefined;
  const counts = { results: 0, failedResults: 0 };
  let progressTopicExists = true;
  const groupId = config.groupId ?? `tributary.${options.name}`;
  const results = createResultReporter(
    createActionEmitter({ producer: hub.producer, source: options.name, topic: topic(config.actionsTopic) }),
    options.name,
  );

  const applyPause = () => {
    if (pausedBy.size > 0) consumer?.pause();
    else consumer?.resume();
  };
  const runner = createJobRunner(options.name, config.runner, {
    onSaturated(full) {
      if (full) pausedBy.add('pool');
      else pausedBy.delete('pool');
      applyPause();
    },
    onBreaker(state) {
      logger.warn({ state }, 'provider breaker changed state');
      // Half-open lets one trial through: resume, and the next failure opens it again.
      if (state === 'open') pausedBy.add('breaker');
      else pausedBy.delete('breaker');
      applyPause();
    },
  });

  const envelopeFor = (request: Envelope, type: string) =>
    newEnvelope({
      type,
      source: options.name,
      subject: request.subject,
      actor: request.actor,
      tenant: request.tenant,
      correlationId: request.correlationId ?? request.id,
      causationId: request.id,
    });

  const publishResult = async (spec: MediaJobSpec<unknown, unknown>, request: Envelope, data: object) => {
    await hub.producer.publish(topic(spec.resultTopic), [
      { envelope: envelopeFor(request, spec.resultType), data: { requestId: request.id, ...data } },
    ]);
  };

  const handle = async (
    event: HubEvent<unknown>,
    ctx: { topic: string; attempt: number; signal: AbortSignal },
  ) => {
    const spec = byTopic.get(ctx.topic);
    if (!spec) throw new HubError('PROCESSOR_UNKNOWN_TOPIC', `no job handles topic ${ctx.topic}`);
    const request = event.envelope;
    const jobLogger = logger.child({ command: spec.command, requestId: request.id });
    const began = Date.now();
    const progress = async (stage: string, percent: number | null = null, message: string | null = null) => {
      if (!progressTopicExists) return;
      try {
        await hub.producer.publish(topic(PROGRESS_TOPIC), [
          {
            envelope: envelopeFor(request, PROGRESS_TYPE),
            data: { requestId: request.id, command: spec.command, stage, percent, message },
          },
        ]);
      } catch (err) {
        jobLogger.debug({ err }, 'progress event not sent');
      }
    };
    try {
      const body = await runner.run(
        (signal) => spec.handle(event.data, { signal, request, blobs, logger: jobLogger, progress }),
        ctx.signal,
      );
      // The result and its audit action together: a failure of either retries the record.
      await Promise.all([
        publishResult(spec, request, { status: 'succeeded', error: null, ...body }),
        results.report({ command: spec.command, request, data: event.data, durationMs: Date.now() - began }),
      ]);
      counts.results += 1;
    } catch (err) {
      // Cut short by close(): not a failure of the request; the record is delivered again.
      if (ctx.signal.aborted) throw err;
      const error = toHubError(err, 'PROCESSOR_FAILED', { topic: ctx.topic });
      // The consumer retries a retriable error up to `retry.retries` times; after that, or for
      // an error no retry can fix, the caller gets a failed result and the record a DLQ entry.
      if (!error.retriable || ctx.attempt > config.retry.retries) {
        jobLogger.warn({ code: error.code, err: error }, 'job failed');
        await Promise.all([
          publishResult(spec, request, {
            status: 'failed',
            error: { code: error.code, message: error.message, retriable: error.retriable },
            ...spec.failed(event.data, error),
          }),
          results.report({
            command: spec.command,
            request,
            data: event.data,
            error,
            durationMs: Date.now() - began,
          }),
        ]);
        counts.failedResults += 1;
      }
      throw error;
    }
  };

  /**
   * Results cannot be reported without the action topic: fail at start, not on every job. A
   * missing progress topic only turns progress events off (each send would otherwise wait
   * out the producer's metadata retries, holding up the job).
   */
  async function checkTopics(): Promise<void> {
    const admin = hub.kafka.admin();
    let existing: Set<string>;
    try {
      await admin.connect();
      existing = new Set(await admin.listTopics());
    } catch (err) {
      throw fromKafkaError(err, 'KAFKA_ADMIN', { topic: topic(config.actionsTopic) });
    } finally {
      await admin.disconnect().catch(() => {});
    }
    const actions = topic(config.actionsTopic);
    if (!existing.has(actions)) {
      throw new HubError(
        'PROCESSOR_TOPIC_MISSING',
        `${options.name} reports every result to ${actions}, which does not exist`,
        { where: { topic: actions }, hint: 'create the hub topics first: tributary topology apply' },
      );
    }
    progressTopicExists = existing.has(topic(PROGRESS_TOPIC));
    if (!progressTopicExists) {
      logger.warn({ topic: topic(PROGRESS_TOPIC) }, 'progress topic does not exist; no progress events');
    }
  }

  return {
    runner,
    async start() {
      if (closed) throw new HubError('PROCESSOR_CLOSED', `${options.name} is closed`);
      if (consumer) return;
      await checkTopics();
      // Durable by default: a request redelivered after a restart is not run (and billed) twice.
      const idempotency: IdempotencyStore =
        config.idempotency === 'topic'
          ? createTopicIdempotencyStore({ kafka: hub.kafka, groupId, logger })
          : createMemoryIdempotencyStore();
      consumer = createEventConsumer({
        kafka: hub.kafka,
        serde: hub.serde,
        groupId,
        topics: [...byTopic.keys()],
        handler: (event, ctx) => handle(event, ctx),
        deadLetters: createDeadLetterWriter({ producer: hub.producer }),
        idempotency,
        logger,
        concurrency: config.runner.maxConcurrent,
        retry: config.retry,
      });
      applyPause();
      await consumer.start();
    },
    close() {
      closed ??= (async () => {
        await consumer?.close();
        runner.close();
        await options.onClose?.();
      })();
      return closed;
    },
    pause() {
      pausedBy.add('operator');
      applyPause();
    },
    resume() {
      pausedBy.delete('operator');
      applyPause();
    },
    status() {
      return {
        ...counts,
        pausedBy: [...pausedBy],
        runner: runner.status(),
        consumer: consumer?.status() ?? null,
      };
    },
  };
}
