import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { HubError, toHubError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import type { HubEvent } from '../schemas/index.ts';
import { createAssignmentSeeker } from './consumer-assignment.ts';
import { createBatchDelivery } from './consumer-batch.ts';
import type { EventConsumer, EventConsumerOptions, EventHandler } from './consumer-types.ts';
import type { IdempotencyStore } from './idempotency.ts';
import { fromKafkaError, isTopicSettling } from './kafka-errors.ts';
import type { RawHeaders, RawRecord, RecordPosition } from './records.ts';
import { backoffDelay, retryPolicySchema, waitUnlessAborted, withTimeout } from './retry-policy.ts';
import { annotateActiveSpan, markActiveSpanFailed, outsideTrace, withRecordSpan } from './tracing.ts';

export type {
  EventConsumer,
  EventConsumerOptions,
  EventConsumerStatus,
  EventContext,
  EventHandler,
} from './consumer-types.ts';

// Commit inside a long batch at least this often, so a crash re-delivers little.
const commitEveryMs = 5_000;

type Outcome = 'done' | 'interrupted';

/** Creates an event consumer; see EventConsumer for its delivery guarantees. */
export function createEventConsumer(options: EventConsumerOptions): EventConsumer {
  const { kafka, serde, groupId, topics, handler, batchHandler, deadLetters, idempotency } = options;
  if (!handler === !batchHandler) {
    throw new HubError(
      'PLATFORM_CONFIG',
      `consumer ${groupId} needs exactly one of handler and batchHandler`,
    );
  }
  if (options.onUndecodable && !batchHandler) {
    throw new HubError('PLATFORM_CONFIG', `consumer ${groupId}: onUndecodable needs a batchHandler`);
  }
  const logger = (options.logger ?? silentLogger()).child({ groupId });
  const retry = retryPolicySchema.parse(options.retry ?? {});
  const closeTimeoutMs = options.closeTimeoutMs ?? 15_000;
  // close() waits for the fetch in flight, so the long-poll bounds how fast a consumer stops.
  const consumer: Consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 1_000,
    ...(options.minBytes ? { minBytes: options.minBytes } : {}),
    ...(options.sessionTimeoutMs
      ? {
          sessionTimeout: options.sessionTimeoutMs,
          heartbeatInterval: Math.floor(options.sessionTimeoutMs / 10),
        }
      : {}),
  });
  const stopping = new AbortController();
  const aborting = new AbortController();
  const counts = { processed: 0, duplicates: 0, retries: 0, deadLettered: 0 };
  let paused = false;
  let running = false;
  // After each (re)join another member may have applied events of our new partitions.
  let refreshIdempotency = false;
  let refreshing: Promise<void> | undefined;
  let started: Promise<void> | undefined;
  let closed: Promise<void> | undefined;

  // Positions kept outside Kafka (onAssigned) are sought after every join, before records flow.
  const seeker = createAssignmentSeeker(options.onAssigned, (target) => consumer.seek(target), logger);

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    refreshIdempotency = true;
    seeker.joined(event.payload.memberAssignment as Record<string, number[]>);
  });
  consumer.on(consumer.events.CRASH, (event) => {
    logger.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
  });

  function toRawRecord(message: KafkaMessage): RawRecord {
    return {
      key: message.key,
      value: message.value,
      headers: (message.headers ?? {}) as RawHeaders,
      timestamp: message.timestamp,
    };
  }

  async function deadLetter(position: RecordPosition, message: KafkaMessage, stage: string, error: HubError) {
    logger.warn({ ...position, stage, code: error.code, err: error }, 'record sent to the dead-letter topic');
    markActiveSpanFailed(error);
    await deadLetters.send({ record: toRawRecord(message), ...position, stage, error });
    counts.deadLettered += 1;
  }

  /** One record through decode, de-duplication, handler (with retries) and dead-lettering. */
  async function processRecord(
    handler: EventHandler,
    position: RecordPosition,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
    remembering: Promise<void>[],
  ): Promise<Outcome> {
    for (let attempt = 1; ; attempt += 1) {
      let stage = 'decode';
      try {
        if (message.value === null) {
          throw new HubError('SCHEMA_DECODE', 'record has no value (tombstone) on an event topic', {
            where: position,
          });
        }
        const decoded = await serde.decode(message.value, position);
        const event = decoded.value as HubEvent<unknown>;
        annotateActiveSpan({ 'messaging.message.id': event.envelope.id });
        stage = 'idempotency';
        if (idempotency && (await idempotency.seen(event.envelope.id))) {
          counts.duplicates += 1;
          logger.debug({ ...position, id: event.envelope.id }, 'dropped an event already applied');
          return 'done';
        }
        stage = 'handle';
        await handler(event, {
          ...position,
          key: message.key?.toString('utf8') ?? null,
          headers: (message.headers ?? {}) as RawHeaders,
          schemaName: decoded.schemaName,
          schemaId: decoded.schemaId,
          attempt,
          signal: aborting.signal,
        });
        counts.processed += 1;
        // Not awaited here: marks are made durable together before the next commit.
        if (idempotency) remembering.push(rememberApplied(idempotency, event.envelope.id, position));
        return 'done';
      } catch (err) {
        // A handler cut short by close() did not fail on the record: leave it for redelivery.
        if (aborting.signal.aborted) return 'interrupted';
        const error = toHubError(err, stage === 'decode' ? 'SCHEMA_DECODE' : 'HANDLER_FAILED', position);
        // Paused (an open breaker): the record waits unresolved for resume(), never for the DLQ.
        if (error.retriable && paused) return 'interrupted';
        if (!error.retriable || attempt > retry.retries) {
          await deadLetter(position, message, stage, error);
          return 'done';
        }
        counts.retries += 1;
        logger.info({ ...position, attempt, code: error.code, err: error }, 'retriable failure, retrying');
        if (!(await waitUnlessAborted(backoffDelay(retry, attempt), stopping.signal))) return 'interrupted';
        if (paused) return 'interrupted';
        // Keep the group membership alive through long retry sequences.
        await heartbeat();
      }
    }
  }

  async function rememberApplied(
    store: IdempotencyStore,
    id: string,
    position: RecordPosition,
  ): Promise<void> {
    try {
      await store.remember(id);
    } catch (err) {
      // The effect already happened: re-running the handler would be worse than a missed mark.
      logger.warn({ ...position, id, err }, 'could not record the applied event id');
    }
  }

  const deliverBatch =
    batchHandler &&
    createBatchDelivery({
      serde,
      handler: batchHandler,
      onUndecodable: options.onUndecodable,
      idempotency,
      retry,
      logger,
      groupId,
      counts,
      isPaused: () => paused,
      stopping: stopping.signal,
      aborting: aborting.signal,
      deadLetter,
      rememberApplied,
    });

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    if (refreshIdempotency && idempotency?.refresh) {
      refreshIdempotency = false;
      refreshing = idempotency.refresh().catch((err: unknown) => {
        // Try again on the next batch instead of failing every batch from now on.
        refreshIdempotency = true;
        refreshing = undefined;
        throw err;
      });
    }
    // Every partition processed concurrently waits for the same catch-up.
    if (refreshing) await refreshing;
    try {
      await seeker.ready();
    } catch (err) {
      // This batch was fetched before the seek: it is not used; kafkajs retries after a restart.
      throw toHubError(err, 'CONSUMER_ASSIGN', { topic: batch.topic, partition: batch.partition });
    }
    let lastCommit = Date.now();
    const remembering: Promise<void>[] = [];
    const commit = async () => {
      // An offset is committed only once the applied marks of its records are durable.
      await Promise.all(remembering.splice(0));
      await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
      lastCommit = Date.now();
    };
    let failed = false;
    try {
      if (deliverBatch) {
        await deliverBatch(
          {
            topic: batch.topic,
            partition: batch.partition,
            messages: batch.messages,
            heartbeat,
            usable: () => isRunning() && !isStale(),
            resolveOffset,
          },
          remembering,
        );
        return;
      }
      for (const message of batch.messages) {
        // Unresolved records stay unresolved: kafkajs fetches again from the last resolved offset.
        if (!isRunning() || isStale() || paused || stopping.signal.aborted) break;
        const position = { topic: batch.topic, partition: batch.partition, offset: message.offset };
        // The handler runs in the trace the record carried, so what it publishes continues it.
        const outcome = await withRecordSpan(position, message.headers as RawHeaders, groupId, () =>
          processRecord(handler!, position, message, heartbeat, remembering),
        );
        if (outcome === 'interrupted') break;
        resolveOffset(message.offset);
        if (Date.now() - lastCommit > commitEveryMs) await commit();
      }
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      // Commit what finished, also when stopping or failing, so it is not applied again.
      await commit().catch((err: unknown) => {
        if (!failed)
          throw fromKafkaError(err, 'KAFKA_COMMIT', { topic: batch.topic, partition: batch.partition });
        logger.warn({ err }, 'commit after a failed batch did not succeed');
      });
    }
  }

  async function run(): Promise<void> {
    await idempotency?.start?.();
    const joined = new Promise<void>((resolve) => {
      const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
        remove();
        resolve();
      });
    });
    try {
      await consumer.connect();
      // A topic created moments ago may be unknown to the broker asked for a while (on three
      // brokers, metadata reaches each one separately): that only means "not yet".
      for (const settleBy = Date.now() + 10_000; ; ) {
        try {
          await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true });
          break;
        } catch (err) {
          if (!isTopicSettling(err) || Date.now() > settleBy) throw err;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      // The fetch loop lives on: it must not run in the trace of whoever started the consumer.
      await outsideTrace(() =>
        consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: options.concurrency ?? 1,
          eachBatch,
        }),
      );
    } catch (err) {
      throw fromKafkaError(err, 'KAFKA_CONSUMER_START', { topic: topics.join(',') });
    }
    running = true;
    if (paused) consumer.pause(topics.map((topic) => ({ topic })));
    const joinTimeoutMs = options.joinTimeoutMs ?? 60_000;
    await withTimeout(
      joined
        .then(() => seeker.ready())
        .catch((err: unknown) => {
          throw toHubError(err, 'CONSUMER_ASSIGN', { group: groupId });
        }),
      joinTimeoutMs,
      () =>
        new HubError('KAFKA_GROUP_JOIN', `group ${groupId} got no assignment within ${joinTimeoutMs} ms`, {
          retriable: true,
          where: { group: groupId },
        }),
    );
  }

  async function shutdown(): Promise<void> {
    stopping.abort();
    const abortTimer = setTimeout(() => aborting.abort(), closeTimeoutMs);
    try {
      // After aborting handlers, allow a little more for the commit and the group leave.
      await withTimeout(consumer.disconnect(), closeTimeoutMs + 5_000, () => new Error('gave up'));
    } catch (err) {
      logger.warn({ err }, 'consumer did not stop cleanly; uncommitted records will be re-delivered');
    } finally {
      clearTimeout(abortTimer);
      running = false;
      await idempotency?.close?.();
    }
  }

  return {
    start() {
      if (closed) return Promise.reject(new HubError('PLATFORM_CLOSED', `consumer ${groupId} is closed`));
      started ??= run();
      return started;
    },
    close() {
      closed ??= shutdown();
      return closed;
    },
    pause() {
      paused = true;
      // kafkajs only knows its assignment once run() was called; run() re-applies the flag.
      if (running) consumer.pause(topics.map((topic) => ({ topic })));
    },
    resume() {
      paused = false;
      if (running) consumer.resume(topics.map((topic) => ({ topic })));
    },
    status() {
      return { groupId, topics, running, paused, ...counts };
    },
  };
}
