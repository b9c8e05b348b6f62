import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HubError, toHubError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import type { Component } from '../platform/declaration.ts';
import {
  type AssignedPartition,
  type BatchEvent,
  createEventConsumer,
  type DeadLetterWriter,
  type EventConsumer,
  type EventProducer,
  type KafkaClient,
  type PartitionContext,
  type RawRecord,
  type RecordPosition,
  withSpan,
} from '../platform/index.ts';
import type { Serde } from '../schemas/index.ts';
import {
  actionRecordOf,
  eventRecordOf,
  foreignEventRecord,
  isActionEvent,
  undecodableRawRecord,
} from './action-record.ts';
import { publishAnchor } from './anchors.ts';
import { type ChainWriter, openChainWriter } from './chain-writer.ts';
import { type AuditConsumerConfig, auditConsumerConfigSchema } from './consumer-config.ts';
import type { ActionRecord, Checkpoint } from './entry.ts';
import { type AuditKeyRing, assertCanWrite, loadAuditKeys } from './keys.ts';
import { createSegmentStore } from './segment-store.ts';
import { type AuditStore, chainIdForPartition } from './store.ts';
import { openSubjectKeyFile, type SubjectKeyStore } from './subject-keys.ts';

export { type AuditConsumerConfig, auditConsumerConfigSchema } from './consumer-config.ts';

/**
 * The audit consumer: reads `hub.actions` and appends every action to the chain of its
 * partition, through the platform's event consumer in batch mode. Per partition slice of a
 * fetch: append durably (one O_DSYNC write) THEN the platform commits the offsets. The store
 * knows the last source offset of every chain: after every group join each partition is sought
 * right after it (no gap, whatever the group committed), and records at or below it are
 * dropped (no duplicate after a crash between append and commit).
 */

export interface AuditConsumerDeps {
  kafka: KafkaClient;
  serde: Serde;
  /** Publishes checkpoint anchors when given (the HubContext's producer); none without it. */
  producer?: EventProducer;
  logger?: Logger;
  /** Keys given directly (tests); otherwise loaded from the config/environment on start. */
  keys?: AuditKeyRing;
  store?: AuditStore;
  clock?: () => number;
}

export interface AuditConsumer extends Component {
  status(): {
    running: boolean;
    recorded: number;
    dropped: number;
    chains: Record<string, { seq: number; offset: string | null }>;
    /** Set once a chain could not be written (wrong key, damaged chain): the consumer stopped. */
    error: string | null;
    /** With `threads` > 1: the chains each thread writes and how many entries it recorded. */
    threads?: { chains: string[]; recorded: number }[];
  };
  /** Resolves with the error that stopped the consumer (never, while it runs fine). */
  failed(): Promise<HubError>;
}

// Retriable failures (schema log unreachable, a chain still locked by its previous owner) are
// retried for as long as it takes: giving up would mean a dead letter, i.e. a hole in the audit.
const retryForever = { retries: 1_000_000, initialDelayMs: 200, maxDelayMs: 5_000 };

/** Builds the audit consumer; `start()` refuses without keys (AUDIT_KEYS_MISSING) before touching Kafka. */
export function createAuditConsumer(input: AuditConsumerConfig, deps: AuditConsumerDeps): AuditConsumer {
  const config = auditConsumerConfigSchema.parse(input);
  // A logger that names its component already (the hub's, `audit run`'s) must not get it twice.
  const parent = deps.logger ?? silentLogger();
  const logger = parent.bindings().component === undefined ? parent.child({ component: 'audit' }) : parent;
  const store =
    deps.store ??
    createSegmentStore({ dir: config.dir, fsync: config.fsync, segmentBytes: config.segmentBytes }, logger);
  const writers = new Map<number, Promise<ChainWriter>>();
  const heads = new Map<number, { seq: number; offset: string | null }>();
  const counts = { recorded: 0, dropped: 0 };
  let keys: AuditKeyRing | undefined;
  let subjectKeys: SubjectKeyStore | undefined;
  let consumer: EventConsumer | undefined;
  let timer: NodeJS.Timeout | undefined;
  let started: Promise<void> | undefined;
  let closed: Promise<void> | undefined;

  // A chain that cannot be written (wrong key file, damage, a failing disk) will not heal by
  // retrying, and must never be skipped through the DLQ: stop the consumer instead.
  let fatal: HubError | undefined;
  let reportFailure: (err: HubError) => void = () => {};
  const failure = new Promise<HubError>((resolve) => {
    reportFailure = resolve;
  });
  /** Stops the consumer for good with `err` (first error wins); returns the error that stopped it. */
  const stop = (err: unknown, where: RecordPosition | { topic: string; partition: number }): HubError => {
    if (fatal) return fatal;
    fatal = toHubError(err, 'AUDIT_STORE_FAILED', where);
    logger.error({ err: fatal, code: fatal.code }, 'audit consumer stopped: a chain cannot be written');
    reportFailure(fatal);
    // Paused, the platform leaves the records unresolved (no DLQ, no commit) when a handler
    // throws a retriable error; closing from inside a handler would wait for that handler.
    consumer?.pause();
    void consumer?.close();
    return fatal;
  };
  /** Rethrows a retriable error for the platform to retry; stops on anything else. */
  const handleFailure = (err: unknown, where: RecordPosition | { topic: string; partition: number }) => {
    if (!fatal && err instanceof HubError && err.retriable) throw err;
    const cause = stop(err, where);
    throw new HubError('AUDIT_STOPPED', `the audit consumer stopped: ${cause.code}`, {
      retriable: true,
      cause,
      where,
    });
  };

  // The audit never dead-letters: an action in a DLQ would be missing from the chain.
  const refuseDeadLetters: DeadLetterWriter = {
    send(letter) {
      const where = { topic: letter.topic, partition: letter.partition, offset: letter.offset };
      const err = new HubError('AUDIT_UNRECORDABLE', `a record of ${letter.topic} could not be recorded`, {
        cause: letter.error,
        where,
      });
      return Promise.reject(stop(err, where));
    },
  };

  // Best effort: the next checkpoint supersedes a lost anchor, and the chain itself is durable.
  const anchor = async (cp: Checkpoint) => {
    await publishAnchor(deps.producer!, config.topic, cp, config.anchorTopic).catch((err: unknown) =>
      logger.warn({ err, chain: cp.chain, seq: cp.seq }, 'could not anchor a checkpoint in Kafka'),
    );
  };

  // After a rebalance the previous owner of a partition may still be finishing its last batch.
  const openWriterWaiting = async (partition: number): Promise<ChainWriter> => {
    const deadline = Date.now() + config.sessionTimeoutMs * 2;
    for (;;) {
      try {
        return await openChainWriter(store, chainIdForPartition(partition), {
          keys: keys!,
          subjectKeys: subjectKeys!,
          checkpointEvery: config.checkpointEvery,
          checkpointIntervalMs: config.checkpointIntervalMs,
          ...(deps.clock ? { clock: deps.clock } : {}),
          ...(deps.producer ? { onCheckpoint: anchor } : {}),
        });
      } catch (err) {
        if (!(err instanceof HubError && err.code === 'AUDIT_CHAIN_LOCKED') || Date.now() > deadline)
          throw err;
        logger.info({ partition }, 'chain is still held by its previous writer; waiting');
        await sleep(500);
      }
    }
  };

  const writerFor = (partition: number): Promise<ChainWriter> => {
    let writer = writers.get(partition);
    if (!writer) {
      writer = openWriterWaiting(partition);
      writer.catch(() => writers.delete(partition));
      writers.set(partition, writer);
    }
    return writer;
  };

  /**
   * After every join: closes the chains of partitions this member lost (releasing them to their
   * new owner) and answers, for each assigned one, the offset after its chain's last record.
   */
  async function onAssigned(assignment: AssignedPartition[]): Promise<Map<string, string>> {
    const mine = assignment.filter((a) => a.topic === config.topic).map((a) => a.partition);
    try {
      for (const [partition, writer] of writers) {
        if (mine.includes(partition)) continue;
        writers.delete(partition);
        heads.delete(partition);
        await (await writer).close();
      }
      const seeks = new Map<string, string>();
      for (const partition of mine) {
        const head = (await writerFor(partition)).head();
        // The chain shows in status() from its assignment on, not only from its next record.
        heads.set(partition, { seq: head.seq, offset: head.lastSource?.offset ?? null });
        const stored = head.lastSource;
        if (!stored || stored.topic !== config.topic || stored.partition !== partition) continue;
        seeks.set(`${config.topic}:${partition}`, String(BigInt(stored.offset) + 1n));
      }
      return seeks;
    } catch (err) {
      logger.error({ err }, 'could not open the assigned chains');
      if (err instanceof HubError && err.retriable && !fatal) throw err;
      // The error itself, so that start() fails with it (AUDIT_WRONG_KEY, AUDIT_CHAIN_DAMAGED...).
      throw stop(err, { topic: config.topic, partition: -1 });
    }
  }

  /** Appends records of one partition with one durable write, dropping what the chain has. */
  async function record(partition: number, records: ActionRecord[]): Promise<void> {
    const writer = await writerFor(partition);
    const stored = writer.head().lastSource;
    const last =
      stored && stored.topic === config.topic && stored.partition === partition ? BigInt(stored.offset) : -1n;
    // Records at or below the stored offset were appended before a crash kept them uncommitted.
    const fresh = records.filter((r) => BigInt(r.source.offset) > last);
    counts.dropped += records.length - fresh.length;
    const first = fresh[0];
    if (first && last >= 0n && BigInt(first.source.offset) > last + 1n) {
      logger.error(
        { partition, missing: `${last + 1n}..${BigInt(first.source.offset) - 1n}` },
        'source records are gone (retention?); the chain records where it resumed',
      );
    }
    if (fresh.length === 0) return;
    const entries = await writer.append(fresh);
    counts.recorded += entries.length;
    counts.dropped += fresh.length - entries.length;
    const head = writer.head();
    heads.set(partition, { seq: head.seq, offset: head.lastSource?.offset ?? null });
  }

  async function batchHandler(events: BatchEvent[], part: PartitionContext): Promise<void> {
    try {
      if (fatal) handleFailure(fatal, part);
      const records = events.map(({ event, ctx }) =>
        isActionEvent(ctx.schemaName)
          ? actionRecordOf(event, ctx)
          : config.recordEvents
            ? eventRecordOf(event, ctx.schemaName, ctx)
            : foreignEventRecord(event, ctx.schemaName, ctx),
      );
      // A span per append, inside the consumer's batch span (linked to each action's trace).
      const attributes = {
        'tributary.audit.chain': chainIdForPartition(part.partition),
        'tributary.audit.records': records.length,
      };
      await withSpan('audit.append', { attributes }, () => record(part.partition, records));
    } catch (err) {
      handleFailure(err, { topic: part.topic, partition: part.partition, offset: part.firstOffset });
    }
  }

  async function onUndecodable(raw: RawRecord, position: RecordPosition, error: HubError): Promise<void> {
    try {
      if (fatal) handleFailure(fatal, position);
      logger.warn({ ...position, code: error.code }, 'recording an undecodable action record as such');
      await record(position.partition, [undecodableRawRecord(raw, position, error)]);
    } catch (err) {
      handleFailure(err, position);
    }
  }

  async function run(): Promise<void> {
    keys = deps.keys ?? (await loadAuditKeys({ keyFile: config.keyFile }));
    assertCanWrite(keys);
    subjectKeys = await openSubjectKeyFile(
      config.subjectKeyFile ?? join(config.dir, 'subject-keys.json'),
      keys,
    );
    if (keys.development)
      logger.warn('audit is running with a DEVELOPMENT key file; do not use it in production');
    consumer = createEventConsumer({
      kafka: deps.kafka,
      serde: deps.serde,
      groupId: config.groupId,
      topics: [config.topic],
      concurrency: config.partitionsConsumedConcurrently,
      joinTimeoutMs: config.joinTimeoutMs,
      sessionTimeoutMs: config.sessionTimeoutMs,
      maxWaitTimeMs: 500,
      retry: retryForever,
      deadLetters: refuseDeadLetters,
      logger,
      onAssigned,
      batchHandler,
      onUndecodable,
    });
    timer = setInterval(
      () => {
        for (const w of writers.values()) {
          w.then((writer) => writer.checkpointIfDue()).catch((err: unknown) =>
            logger.error({ err }, 'checkpoint failed'),
          );
        }
      },
      Math.max(250, Math.min(config.checkpointIntervalMs / 4, 5_000)),
    );
    timer.unref();
    // A fatal error reported while joining fails start() with that error, not a wrapper.
    const stoppedEarly = failure.then((err) => Promise.reject(err));
    stoppedEarly.catch(() => {});
    try {
      await Promise.race([consumer.start(), stoppedEarly]);
    } catch (err) {
      throw fatal ?? err;
    }
    if (fatal) throw fatal;
  }

  async function shutdown(): Promise<void> {
    if (timer) clearInterval(timer);
    await started?.catch(() => {});
    await consumer?.close();
    // Final checkpoints after the last batch is durable and committed.
    const results = await Promise.allSettled([...writers.values()].map(async (w) => (await w).close()));
    for (const r of results)
      if (r.status === 'rejected') logger.error({ err: r.reason }, 'closing a chain failed');
  }

  return {
    start() {
      if (closed) return Promise.reject(new HubError('AUDIT_CLOSED', 'the audit consumer is closed'));
      started ??= run();
      return started;
    },
    close() {
      closed ??= shutdown();
      return closed;
    },
    status() {
      const chains = Object.fromEntries([...heads].map(([p, h]) => [chainIdForPartition(p), h]));
      const platform = consumer?.status();
      return {
        running: !fatal && (platform?.running ?? false),
        recorded: counts.recorded,
        // Re-sent events the platform dropped inside one fetch count as dropped too.
        dropped: counts.dropped + (platform?.duplicates ?? 0),
        chains,
        error: fatal ? fatal.describe() : null,
      };
    },
    failed() {
      return failure;
    },
  };
}
