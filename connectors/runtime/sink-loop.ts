import { HubError, toHubError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import {
  type ActionEmitter,
  createEventConsumer,
  type DeadLetterWriter,
  type EventConsumer,
  type EventProducer,
  type IdempotencyStore,
  type KafkaClient,
  type RetryPolicy,
  retryPolicySchema,
  withSpan,
} from '../../platform/index.ts';
import { type HubEvent, newEnvelope, type Serde } from '../../schemas/index.ts';
import { sleep } from './backoff.ts';
import { uuidV5 } from './event-id.ts';
import { httpFailure } from './http-client.ts';

/** What a system answered to a push. */
export interface PushAnswer {
  status: number;
  /** The system's own id of the record, when it said. */
  systemId?: string;
  answer?: unknown;
  /** Extra fields of the result event (a lookup's `found` and `record`); merged last. */
  resultFields?: Record<string, unknown>;
}

/** One command topic a sink consumes and how to push it. */
export interface SinkCommand {
  /** Dotted name, e.g. `erp.sales-order.upsert`. */
  name: string;
  topic: string;
  resultTopic: string;
  /** Avro full name of the result event. */
  resultType: string;
  /** Field of the command data that names the record (also the result's key field). */
  keyField: string;
  /** Applies one command; throws a HubError (retriable for transient failures). `commandId` is the idempotency key. */
  push(data: Record<string, unknown>, ctx: { commandId: string; signal: AbortSignal }): Promise<PushAnswer>;
  /** Extra fields of a failed result, for result schemas with more than the common ones. */
  failedResultFields?: Record<string, unknown>;
  /** Audit action of each command (default `connector.push`; lookups say `connector.lookup`). */
  auditAction?: string;
}

export interface SinkLoopOptions {
  connector: string;
  commands: SinkCommand[];
  kafka: KafkaClient;
  serde: Serde;
  producer: EventProducer;
  deadLetters: DeadLetterWriter;
  actions: ActionEmitter;
  logger: Logger;
  groupId: string;
  retry?: Partial<RetryPolicy>;
  idempotency?: IdempotencyStore;
  /** Resolves when the system may take requests again (a breaker half-opened); the sink then resumes. */
  whenAvailable(signal: AbortSignal): Promise<void>;
  /**
   * How long consumption pauses when a transient failure outlived every retry while the breaker
   * stayed closed (writes failing while reads answer): the first pause, doubled per pause in a row
   * up to the max. The command is tried again after it, never dead-lettered for a transient error.
   */
  outlivedRetriesPause?: { initialDelayMs: number; maxDelayMs: number };
}

export interface SinkLoop {
  start(): Promise<void>;
  close(): Promise<void>;
  pause(): void;
  resume(): void;
  status(): Record<string, unknown>;
}

const maxAnswerLength = 4096;

/**
 * The sink half of a connector: consume commands, push each with its event id as idempotency
 * key, answer with a result event, dead-letter what can never succeed (4xx, mapping) and pause
 * while the system's breakers are open, or after a transient failure outlived the retries, instead
 * of filling the DLQ.
 */
export function createSinkLoop(options: SinkLoopOptions): SinkLoop {
  const { producer, actions, logger } = options;
  const byTopic = new Map(options.commands.map((c) => [c.topic, c]));
  const stopping = new AbortController();
  const counts = { succeeded: 0, failed: 0, breakerPauses: 0, outlivedRetriesPauses: 0 };
  const retries = retryPolicySchema.parse(options.retry ?? {}).retries;
  const outlived = options.outlivedRetriesPause ?? { initialDelayMs: 1_000, maxDelayMs: 30_000 };
  let operatorPaused = false;
  let breakerPaused = false;
  let outlivedPaused = false;
  /** Pauses after outlived retries since the last command the system took. */
  let outlivedInARow = 0;
  let consumer: EventConsumer | undefined;

  const audit = (input: Parameters<ActionEmitter['emit']>[0]) =>
    actions
      .emit(input)
      .catch((err: unknown) => logger.warn({ err, action: input.action }, 'could not emit an action event'));

  const publishResult = async (
    cmd: SinkCommand,
    command: HubEvent<unknown>,
    result: Record<string, unknown>,
  ) => {
    const key = String(result[cmd.keyField]);
    const envelope = newEnvelope({
      // A redelivered command yields the same result id, so consumers of results drop the copy.
      id: uuidV5(`result\u0000${command.envelope.id}`),
      type: cmd.resultType,
      source: options.connector,
      subject: key,
      actor: command.envelope.actor,
      correlationId: command.envelope.correlationId ?? command.envelope.id,
      causationId: command.envelope.id,
      tenant: command.envelope.tenant,
    });
    await producer.publish(cmd.resultTopic, [{ envelope, data: result }]);
  };

  const pauseForBreaker = () => {
    if (breakerPaused) return;
    breakerPaused = true;
    counts.breakerPauses += 1;
    consumer?.pause();
    logger.warn({ connector: options.connector }, 'breaker open: consumption paused');
    void audit({
      action: 'connector.sink.paused',
      actor: options.connector,
      resource: options.connector,
      outcome: 'failed',
    });
    options
      .whenAvailable(stopping.signal)
      .then(() => {
        breakerPaused = false;
        if (stopping.signal.aborted) return;
        void audit({
          action: 'connector.sink.resumed',
          actor: options.connector,
          resource: options.connector,
          outcome: 'succeeded',
        });
        if (!operatorPaused && !outlivedPaused) consumer?.resume();
      })
      .catch(() => undefined);
  };

  /**
   * A transient failure outlived every retry but no breaker opened (the system fails only some
   * requests, e.g. its writes): the consumer would dead-letter the command. Pausing first makes
   * the consumer leave it for redelivery; consumption resumes after a growing delay.
   */
  const pauseAfterOutlivedRetries = (e: HubError) => {
    if (outlivedPaused) return;
    outlivedPaused = true;
    outlivedInARow += 1;
    counts.outlivedRetriesPauses += 1;
    const delayMs = Math.min(outlived.maxDelayMs, outlived.initialDelayMs * 2 ** (outlivedInARow - 1));
    consumer?.pause();
    logger.warn(
      { connector: options.connector, code: e.code, delayMs },
      'retries outlived: consumption paused',
    );
    void audit({
      action: 'connector.sink.paused',
      actor: options.connector,
      resource: options.connector,
      outcome: 'failed',
      details: { reason: 'retries outlived', code: e.code, delayMs },
    });
    sleep(delayMs, stopping.signal)
      .then(() => {
        outlivedPaused = false;
        void audit({
          action: 'connector.sink.resumed',
          actor: options.connector,
          resource: options.connector,
          outcome: 'succeeded',
        });
        if (!operatorPaused && !breakerPaused) consumer?.resume();
      })
      .catch(() => undefined);
  };

  const handle = async (
    event: HubEvent<unknown>,
    ctx: { topic: string; attempt: number; signal: AbortSignal },
  ) => {
    const cmd = byTopic.get(ctx.topic);
    if (!cmd) throw new HubError('SINK_UNKNOWN_TOPIC', `no command is bound to ${ctx.topic}`);
    const data = event.data as Record<string, unknown>;
    const key = String(data[cmd.keyField]);
    try {
      const answer = await cmd.push(data, { commandId: event.envelope.id, signal: ctx.signal });
      await publishResult(cmd, event, {
        commandId: event.envelope.id,
        [cmd.keyField]: key,
        outcome: 'succeeded',
        httpStatus: answer.status,
        systemId: answer.systemId ?? null,
        errorCode: null,
        message: null,
        answer: answer.answer === undefined ? null : JSON.stringify(answer.answer).slice(0, maxAnswerLength),
        ...answer.resultFields,
      });
      counts.succeeded += 1;
      outlivedInARow = 0;
      await audit({
        action: cmd.auditAction ?? 'connector.push',
        actor: event.envelope.actor,
        resource: `${cmd.name}:${key}`,
        outcome: 'succeeded',
        causationId: event.envelope.id,
        details: { status: answer.status, attempt: ctx.attempt },
      });
    } catch (err) {
      const e = toHubError(err, 'PUSH_FAILED', { subject: key });
      if (e.code === 'CIRCUIT_OPEN') pauseForBreaker();
      else if (e.retriable && ctx.attempt > retries) pauseAfterOutlivedRetries(e);
      if (e.retriable) throw e;
      const failure = httpFailure(e);
      await publishResult(cmd, event, {
        commandId: event.envelope.id,
        [cmd.keyField]: key,
        outcome: 'failed',
        httpStatus: failure?.status ?? 0,
        systemId: null,
        errorCode: e.code,
        message: e.message.slice(0, maxAnswerLength),
        answer: failure?.body === undefined ? null : JSON.stringify(failure.body).slice(0, maxAnswerLength),
        ...cmd.failedResultFields,
      });
      counts.failed += 1;
      await audit({
        action: cmd.auditAction ?? 'connector.push',
        actor: event.envelope.actor,
        resource: `${cmd.name}:${key}`,
        outcome: 'failed',
        causationId: event.envelope.id,
        details: { code: e.code, status: failure?.status ?? 0 },
      });
      // The consumer sends a non-retriable error to <topic>.dlq with stage, code and position headers.
      throw e;
    }
  };

  return {
    async start() {
      if (consumer) return;
      consumer = createEventConsumer({
        kafka: options.kafka,
        serde: options.serde,
        groupId: options.groupId,
        topics: options.commands.map((c) => c.topic),
        // One span per command, inside the CONSUMER span of the trace the command carried.
        handler: (event, ctx) => {
          const name = byTopic.get(ctx.topic)?.name ?? ctx.topic;
          const attributes = { 'tributary.connector': options.connector, 'tributary.command': name };
          return withSpan(`command ${name}`, { attributes }, () => handle(event, ctx));
        },
        deadLetters: options.deadLetters,
        logger: options.logger,
        ...(options.retry ? { retry: options.retry } : {}),
        ...(options.idempotency ? { idempotency: options.idempotency } : {}),
      });
      await consumer.start();
    },
    async close() {
      stopping.abort();
      await consumer?.close();
    },
    pause() {
      operatorPaused = true;
      consumer?.pause();
    },
    resume() {
      operatorPaused = false;
      if (!breakerPaused && !outlivedPaused) consumer?.resume();
    },
    status: () => ({
      ...counts,
      breakerPaused,
      outlivedPaused,
      operatorPaused,
      consumer: consumer?.status() ?? null,
    }),
  };
}
