import type { KafkaMessage } from 'kafkajs';
import { HubError, toHubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { HubEvent, Serde } from '../schemas/index.ts';
import type { EventContext } from './consumer-types.ts';
import type { IdempotencyStore } from './idempotency.ts';
import type { RawHeaders, RawRecord, RecordPosition } from './records.ts';
import { backoffDelay, type RetryPolicy, waitUnlessAborted } from './retry-policy.ts';
import { markActiveSpanFailed, withBatchSpan } from './tracing.ts';

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

/**
 * Takes a record that can never decode in place of the DLQ, in offset order with the batches
 * around it (the decoded records before it are handed over first). For consumers that must
 * account for every offset, such as the audit chain. Retried like a handler; a record whose
 * hook fails for good is dead-lettered after all.
 */
export type UndecodableHook = (record: RawRecord, position: RecordPosition, error: HubError) => Promise<void>;

type Outcome = 'done' | 'interrupted';

/** What the batch path shares with the consumer that owns it. */
export interface BatchDeliveryDeps {
  serde: Serde;
  handler: BatchHandler;
  onUndecodable: UndecodableHook | undefined;
  idempotency: IdempotencyStore | undefined;
  retry: RetryPolicy;
  logger: Logger;
  /** Consumer group, for the spans of handed batches. */
  groupId: string;
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

type Decoded = { event: HubEvent<unknown>; schemaName: string; schemaId: number };

/** Delivers fetched batches to a BatchHandler: decode, de-duplicate, hand over, isolate on failure. */
export function createBatchDelivery(deps: BatchDeliveryDeps) {
  const { serde, handler, idempotency, retry, logger, counts } = deps;

  /**
   * Runs `work` until it succeeds, retrying a retriable failure with backoff. 'interrupted'
   * when stopping or paused (the records wait for redelivery), `failed` when no retry helps.
   */
  async function withRetries(
    work: (attempt: number) => Promise<void>,
    where: RecordPosition,
    code: string,
    heartbeat: () => Promise<void>,
  ): Promise<Outcome | { failed: HubError }> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await work(attempt);
        return 'done';
      } catch (err) {
        // Cut short by close(): not a failure of the records; they are delivered again.
        if (deps.aborting.aborted) return 'interrupted';
        const error = toHubError(err, code, where);
        if (error.retriable && deps.isPaused()) return 'interrupted';
        if (!error.retriable || attempt > retry.retries) return { failed: error };
        logger.info({ ...where, attempt, code: error.code, err: error }, 'retriable failure, retrying');
        counts.retries += 1;
        if (!(await waitUnlessAborted(backoffDelay(retry, attempt), deps.stopping))) return 'interrupted';
        if (deps.isPaused()) return 'interrupted';
        await heartbeat();
      }
    }
  }

  /** Decodes one record, retrying a retriable failure (registry down). */
  async function decode(
    position: RecordPosition,
    message: KafkaMessage,
    slice: BatchSlice,
  ): Promise<Decoded | { failed: HubError } | 'interrupted'> {
    let decoded: Decoded | undefined;
    const outcome = await withRetries(
      async () => {
        if (message.value === null) {
          throw new HubError('SCHEMA_DECODE', 'record has no value (tombstone) on an event topic', {
            where: position,
          });
        }
        const result = await serde.decode(message.value, position);
        decoded = {
          event: result.value as HubEvent<unknown>,
          schemaName: result.schemaName,
          schemaId: result.schemaId,
        };
      },
      position,
      'SCHEMA_DECODE',
      slice.heartbeat,
    );
    if (outcome === 'done') return decoded!;
    return outcome;
  }

  /**
   * Hands `events` to the handler until it succeeds, retries run out or we stop, inside one
   * CONSUMER span linked to every record's trace context (see withBatchSpan).
   */
  function handOver(events: BatchEvent[], slice: BatchSlice, mode: PartitionContext['mode']) {
    const first = events[0]!.ctx;
    const last = events.at(-1)!.ctx;
    const span = { topic: slice.topic, partition: slice.partition, firstOffset: first.offset };
    const headers = events.map((e) => e.ctx.headers);
    return withBatchSpan(span, headers, deps.groupId, async () => {
      const outcome = await handOverOnce(events, slice, mode, first, last);
      if (typeof outcome === 'object') markActiveSpanFailed(outcome.failed);
      return outcome;
    });
  }

  function handOverOnce(
    events: BatchEvent[],
    slice: BatchSlice,
    mode: PartitionContext['mode'],
    first: BatchEvent['ctx'],
    last: BatchEvent['ctx'],
  ) {
    return withRetries(
      (attempt) =>
        handler(
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
        ),
      { topic: slice.topic, partition: slice.partition, offset: first.offset },
      'HANDLER_FAILED',
      slice.heartbeat,
    );
  }

  /** Runs one partition's batch and resolves the offsets it settled; pending id marks go to `remembering`. */
  return async function deliverBatch(slice: BatchSlice, remembering: Promise<void>[]): Promise<void> {
    const messageOf = new Map<BatchEvent, KafkaMessage>();
    let pending: BatchEvent[] = [];
    // Ids handed in this batch: a producer retry can put the same event twice into one fetch.
    const handed = new Set<string>();

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
    /** Hands over the pending records; on a permanent failure isolates the bad one. */
    const flush = async (): Promise<Outcome> => {
      const events = pending;
      pending = [];
      if (events.length === 0) return 'done';
      const outcome = await handOver(events, slice, 'batch');
      if (outcome === 'interrupted') {
        resolveBefore(events[0]!.ctx.offset);
        return 'interrupted';
      }
      if (outcome === 'done') {
        applied(events);
        return 'done';
      }
      logger.warn(
        { topic: slice.topic, partition: slice.partition, code: outcome.failed.code, err: outcome.failed },
        'batch failed; handing its records one by one to isolate the bad one',
      );
      for (const item of events) {
        const single = await handOver([item], slice, 'isolating');
        if (single === 'interrupted') {
          resolveBefore(item.ctx.offset);
          return 'interrupted';
        }
        if (single === 'done') applied([item]);
        else await deps.deadLetter(item.ctx, messageOf.get(item)!, 'handle', single.failed);
      }
      return 'done';
    };
    /** A record that never decodes: to the hook (after the records before it) or to the DLQ. */
    const settleUndecodable = async (
      position: RecordPosition,
      message: KafkaMessage,
      error: HubError,
    ): Promise<Outcome> => {
      const hook = deps.onUndecodable;
      if (!hook) {
        await deps.deadLetter(position, message, 'decode', error);
        return 'done';
      }
      if ((await flush()) === 'interrupted') return 'interrupted';
      const record: RawRecord = {
        key: message.key,
        value: message.value,
        headers: (message.headers ?? {}) as RawHeaders,
        timestamp: message.timestamp,
      };
      const outcome = await withRetries(
        () => hook(record, position, error),
        position,
        'HANDLER_FAILED',
        slice.heartbeat,
      );
      if (outcome === 'interrupted') {
        resolveBefore(position.offset);
        return 'interrupted';
      }
      if (outcome !== 'done') await deps.deadLetter(position, message, 'decode', error);
      return 'done';
    };

    // The last offset up to which every record is settled or pending.
    let covered: string | undefined;
    for (const message of slice.messages) {
      if (!slice.usable() || deps.isPaused() || deps.stopping.aborted) break;
      const position = { topic: slice.topic, partition: slice.partition, offset: message.offset };
      const decoded = await decode(position, message, slice);
      if (decoded === 'interrupted') break;
      if ('failed' in decoded) {
        if ((await settleUndecodable(position, message, decoded.failed)) === 'interrupted') return;
        covered = message.offset;
        continue;
      }
      covered = message.offset;
      const { event } = decoded;
      if (handed.has(event.envelope.id) || (idempotency && (await idempotency.seen(event.envelope.id)))) {
        counts.duplicates += 1;
        logger.debug({ ...position, id: event.envelope.id }, 'dropped an event already applied');
        continue;
      }
      handed.add(event.envelope.id);
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
      pending.push(item);
      messageOf.set(item, message);
    }
    if ((await flush()) === 'interrupted') return;
    if (covered !== undefined) slice.resolveOffset(covered);
  };
}
