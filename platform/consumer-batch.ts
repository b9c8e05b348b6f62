import type { KafkaMessage } from 'kafkajs';
import { HubError, toHubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { HubEvent, Serde } from '../schemas/index.ts';
import type { EventContext } from './consumer.ts';
import type { IdempotencyStore } from './idempotency.ts';
import type { RawHeaders, RecordPosition } from './records.ts';
import { backoffDelay, type RetryPolicy, waitUnlessAborted } from './retry-policy.ts';

/** One decoded record of a batch, with the same context a per-record handler gets. */
export interface BatchEvent {
  event: HubEvent<unknown>;
  ctx: EventContext;
}

/** What a batch handler learns about the partition slice it is given. */
export interface PartitionContext {
  topic: string;
  partition: number;
  /** Offsets of the first and last record handed (skipped records may sit between them). */
  firstOffset: string;
  lastOffset: string;
  /** 1 on the first try of these records, 2 on the first retry, ... */
  attempt: number;
  /**
   * `batch` normally; `isolating` when a batch failed for good and its records are handed again
   * one per call, so the one that cannot succeed goes to the DLQ alone.
   */
  mode: 'batch' | 'isolating';
  /** Aborted when `close()` runs out of patience. */
  signal: AbortSignal;
  /** Keeps the group membership alive during long work. */
  heartbeat(): Promise<void>;
}

/**
 * Applies the decoded records of one partition from one fetch, in offset order. Resolve only
 * once their effect is durable: the offsets of the whole slice are committed after. A throw
 * hands the same records again, so a failing handler must have applied none of them or apply
 * them idempotently. Retriable errors are retried with backoff; after that, or for any other
 * error, the records are handed one per call and the one that still fails is dead-lettered.
 */
export type BatchHandler = (events: BatchEvent[], partition: PartitionContext) => Promise<void>;

type Outcome = 'done' | 'interrupted';

/** What the batch path shares with the consumer that owns it. */
export interface BatchDeliveryDeps {
  serde: Serde;
  handler: BatchHandler;
  idempotency: IdempotencyStore | undefined;
  retry: RetryPolicy;
  logger: Logger;
  counts: { processed: number; duplicates: number; retries: number };
  isPaused(): boolean;
  stopping: AbortSignal;
  aborting: AbortSignal;
  deadLetter(position: RecordPosition, message: KafkaMessage, stage: string, error: HubError): Promise<void>;
  rememberApplied(store: IdempotencyStore, id: string, position: RecordPosition): Promise<void>;
}

/** The slice of a kafkajs batch payload the batch path uses. */
export interface BatchSlice {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  heartbeat(): Promise<void>;
  /** False once the consumer stops or the partition was revoked or sought. */
  usable(): boolean;
  resolveOffset(offset: string): void;
}

/** Delivers fetched batches to a BatchHandler: decode, de-duplicate, hand over, isolate on failure. */
export function createBatchDelivery(deps: BatchDeliveryDeps) {
  const { serde, handler, idempotency, retry, logger, counts } = deps;

  /** Waits out one retry; false when the consumer is stopping or paused meanwhile. */
  async function backoff(attempt: number, heartbeat: () => Promise<void>): Promise<boolean> {
    counts.retries += 1;
    if (!(await waitUnlessAborted(backoffDelay(retry, attempt), deps.stopping))) return false;
    if (deps.isPaused()) return false;
    await heartbeat();
    return true;
  }

  /** Decodes one record, retrying a retriable failure (registry down); undefined once dead-lettered. */
  async function decode(
    position: RecordPosition,
    message: KafkaMessage,
    slice: BatchSlice,
  ): Promise<{ event: HubEvent<unknown>; schemaName: string; schemaId: number } | 'dead' | 'interrupted'> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        if (message.value === null) {
          throw new HubError('SCHEMA_DECODE', 'record has no value (tombstone) on an event topic', {
            where: position,
          });
        }
        const decoded = await serde.decode(message.value, position);
        return {
          event: decoded.value as HubEvent<unknown>,
          schemaName: decoded.schemaName,
          schemaId: decoded.schemaId,
        };
      } catch (err) {
        const error = toHubError(err, 'SCHEMA_DECODE', position);
        if (error.retriable && deps.isPaused()) return 'interrupted';
        if (!error.retriable || attempt > retry.retries) {
          await deps.deadLetter(position, message, 'decode', error);
          return 'dead';
        }
        logger.info(
          { ...position, attempt, code: error.code, err: error },
          'retriable decode failure, retrying',
        );
        if (!(await backoff(attempt, slice.heartbeat))) return 'interrupted';
      }
    }
  }

  /** Hands `events` to the handler until it succeeds, retries run out ('failed') or we stop. */
  async function handOver(
    events: BatchEvent[],
    slice: BatchSlice,
    mode: PartitionContext['mode'],
  ): Promise<Outcome | { failed: HubError }> {
    const first = events[0]!.ctx;
    const last = events.at(-1)!.ctx;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await handler(
          events.map(({ event, ctx }) => ({ event, ctx: { ...ctx, attempt } })),
          {
            topic: slice.topic,
            partition: slice.partition,
            firstOffset: first.offset,
            lastOffset: last.offset,
            attempt,
            mode,
            signal: deps.aborting,
            heartbeat: slice.heartbeat,
          },
        );
        return 'done';
      } catch (err) {
        // Cut short by close(): not a failure of the records; they are delivered again.
        if (deps.aborting.aborted) return 'interrupted';
        const error = toHubError(err, 'HANDLER_FAILED', {
          topic: slice.topic,
          partition: slice.partition,
          offset: first.offset,
        });
        if (error.retriable && deps.isPaused()) return 'interrupted';
        if (!error.retriable || attempt > retry.retries) return { failed: error };
        logger.info(
          {
            topic: slice.topic,
            partition: slice.partition,
            from: first.offset,
            to: last.offset,
            attempt,
            err: error,
          },
          'retriable batch failure, retrying',
        );
        if (!(await backoff(attempt, slice.heartbeat))) return 'interrupted';
      }
    }
  }

  /**
   * Runs one partition's batch and resolves the offsets it finished; returns the pending marks
   * of applied event ids, which must be durable before the commit.
   */
  return async function deliverBatch(slice: BatchSlice, remembering: Promise<void>[]): Promise<void> {
    const events: BatchEvent[] = [];
    const messageOf = new Map<BatchEvent, KafkaMessage>();
    // The last offset every record up to which is settled (dead-lettered, duplicate or handed).
    let covered: string | undefined;
    for (const message of slice.messages) {
      if (!slice.usable() || deps.isPaused() || deps.stopping.aborted) break;
      const position = { topic: slice.topic, partition: slice.partition, offset: message.offset };
      const decoded = await decode(position, message, slice);
      if (decoded === 'interrupted') break;
      covered = message.offset;
      if (decoded === 'dead') continue;
      const { event } = decoded;
      if (idempotency && (await idempotency.seen(event.envelope.id))) {
        counts.duplicates += 1;
        logger.debug({ ...position, id: event.envelope.id }, 'dropped an event already applied');
        continue;
      }
      const item: BatchEvent = {
        event,
        ctx: {
          ...position,
          key: message.key?.toString('utf8') ?? null,
          headers: (message.headers ?? {}) as RawHeaders,
          schemaName: decoded.schemaName,
          schemaId: decoded.schemaId,
          attempt: 1,
          signal: deps.aborting,
        },
      };
      events.push(item);
      messageOf.set(item, message);
    }

    const applied = (items: BatchEvent[]) => {
      counts.processed += items.length;
      if (!idempotency) return;
      for (const { event, ctx } of items) {
        remembering.push(deps.rememberApplied(idempotency, event.envelope.id, ctx));
      }
    };
    // Resolves everything before `offset` (exclusive), when that is inside this batch.
    const resolveBefore = (offset: string) => {
      const previous = BigInt(offset) - 1n;
      const first = slice.messages[0];
      if (first && previous >= BigInt(first.offset)) slice.resolveOffset(previous.toString());
    };

    if (events.length > 0) {
      const outcome = await handOver(events, slice, 'batch');
      if (outcome === 'interrupted') {
        resolveBefore(events[0]!.ctx.offset);
        return;
      }
      if (outcome === 'done') {
        applied(events);
      } else {
        logger.warn(
          { topic: slice.topic, partition: slice.partition, code: outcome.failed.code, err: outcome.failed },
          'batch failed; handing its records one by one to isolate the bad one',
        );
        for (const item of events) {
          const single = await handOver([item], slice, 'isolating');
          if (single === 'interrupted') {
            resolveBefore(item.ctx.offset);
            return;
          }
          if (single === 'done') applied([item]);
          else await deps.deadLetter(item.ctx, messageOf.get(item)!, 'handle', single.failed);
        }
      }
    }
    if (covered !== undefined) slice.resolveOffset(covered);
  };
}
