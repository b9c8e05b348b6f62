import type { Logger } from '../core/logger.ts';
import type { HubEvent, Serde } from '../schemas/index.ts';
import type { AssignmentHook } from './consumer-assignment.ts';
import type { BatchHandler, UndecodableHook } from './consumer-batch.ts';
import type { DeadLetterWriter } from './dead-letter.ts';
import type { IdempotencyStore } from './idempotency.ts';
import type { KafkaClient } from './kafka.ts';
import type { RawHeaders, RecordPosition } from './records.ts';
import type { RetryPolicy } from './retry-policy.ts';

/** What a handler learns about the record besides the decoded event. */
export interface EventContext extends RecordPosition {
  key: string | null;
  headers: RawHeaders;
  schemaName: string;
  schemaId: number;
  /** 1 on the first try, 2 on the first retry, ... */
  attempt: number;
  /** Aborted when `close()` runs out of patience; long handlers should stop then. */
  signal: AbortSignal;
}

/**
 * Applies one event. Resolve only once the effect is durable: the offset is committed after.
 * Throw a HubError with `retriable: true` for a transient failure (retried with backoff), any
 * other error sends the record to `<topic>.dlq`.
 */
export type EventHandler = (event: HubEvent<unknown>, context: EventContext) => Promise<void>;

export interface EventConsumerOptions {
  kafka: KafkaClient;
  serde: Serde;
  groupId: string;
  topics: string[];
  /** Applies one record at a time. Give exactly one of `handler` and `batchHandler`. */
  handler?: EventHandler;
  /** Applies one partition's records of a fetch at once (one durable write, one commit). */
  batchHandler?: BatchHandler;
  /** Seeks partitions to offsets kept outside Kafka after each join; `start()` waits for it. */
  onAssigned?: AssignmentHook;
  /** With `batchHandler` only: records that never decode go here, in order, instead of the DLQ. */
  onUndecodable?: UndecodableHook;
  deadLetters: DeadLetterWriter;
  /** Owned by the consumer: started on `start()`, closed on `close()`. */
  idempotency?: IdempotencyStore;
  logger?: Logger;
  /** Partitions processed at the same time; records of one partition always go one by one. */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  /** Where a group without committed offsets begins; true (the default) so no event is missed. */
  fromBeginning?: boolean;
  /** How long `close()` lets in-flight handlers finish before aborting them. */
  closeTimeoutMs?: number;
  /** Longest a fetch waits on the broker for new records (kafkajs maxWaitTimeInMs). */
  maxWaitTimeMs?: number;
  /**
   * Bytes a fetch waits for (up to maxWaitTimeMs) before the broker answers (Kafka's
   * fetch.min.bytes; kafkajs default 1). Larger means fewer, fuller batches under steady load:
   * less per-fetch and per-commit work per event, at up to maxWaitTimeMs more latency.
   */
  minBytes?: number;
  /** Longest wait in `start()` for the group to assign partitions. */
  joinTimeoutMs?: number;
  /** Group session timeout (kafkajs default 30 s); heartbeats go every tenth of it. */
  sessionTimeoutMs?: number;
}

export interface EventConsumerStatus {
  groupId: string;
  topics: string[];
  running: boolean;
  paused: boolean;
  processed: number;
  duplicates: number;
  retries: number;
  deadLettered: number;
}

/** A consumer group member that decodes, de-duplicates, retries and dead-letters for its handler. */
export interface EventConsumer {
  /** Joins the group; resolves once partitions are assigned. */
  start(): Promise<void>;
  /** Stops fetching, lets in-flight work finish, commits it and leaves the group. Idempotent. */
  close(): Promise<void>;
  /** Back-pressure (e.g. an open breaker): no record is handled until `resume()`. */
  pause(): void;
  resume(): void;
  status(): EventConsumerStatus;
}
