import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HubError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import type { Component } from '../platform/declaration.ts';
import { type EventProducer, fromKafkaError, type KafkaClient } from '../platform/index.ts';
import type { Serde } from '../schemas/index.ts';
import { actionRecordOf, type KafkaMessageLike } from './action-record.ts';
import { publishAnchor } from './anchors.ts';
import { type ChainWriter, openChainWriter } from './chain-writer.ts';
import { type AuditConsumerConfig, auditConsumerConfigSchema } from './consumer-config.ts';
import type { ActionRecord, Checkpoint } from './entry.ts';
import { type AuditKeyRing, loadAuditKeys } from './keys.ts';
import { createSegmentStore } from './segment-store.ts';
import { type AuditStore, chainIdForPartition } from './store.ts';
import { openSubjectKeyFile, type SubjectKeyStore } from './subject-keys.ts';

export { type AuditConsumerConfig, auditConsumerConfigSchema } from './consumer-config.ts';

/**
 * The audit consumer: reads `hub.actions` and appends every action to the chain of its
 * partition. Per batch: append durably (fsync) THEN commit the Kafka offsets. The store knows
 * the last source offset of every chain, so after a crash records at or below it are dropped
 * (no duplicate) and a group offset that ran ahead of the store is sought back (no gap).
 *
 * It drives a kafkajs consumer through the platform's KafkaClient rather than the platform's
 * EventConsumer, which handles one record at a time (one fsync per action) and cannot seek a
 * partition back to offsets kept outside Kafka.
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
  };
  /** Resolves with the error that stopped the consumer (never, while it runs fine). */
  failed(): Promise<HubError>;
}

/** Builds the audit consumer; `start()` refuses without keys (AUDIT_KEYS_MISSING) before touching Kafka. */
export function createAuditConsumer(input: AuditConsumerConfig, deps: AuditConsumerDeps): AuditConsumer {
  const config = auditConsumerConfigSchema.parse(input);
  const logger = (deps.logger ?? silentLogger()).child({ component: 'audit' });
  const store =
    deps.store ??
    createSegmentStore({ dir: config.dir, fsync: config.fsync, segmentBytes: config.segmentBytes }, logger);
  const writers = new Map<number, Promise<ChainWriter>>();
  // A chain that cannot be written (wrong key file, damage) will not heal by retrying: stop.
  let fatal: HubError | undefined;
  let reportFailure: (err: HubError) => void = () => {};
  const failure = new Promise<HubError>((resolve) => {
    reportFailure = resolve;
  });
  const stopOnFatal = (err: unknown) => {
    if (fatal || !(err instanceof HubError) || err.retriable) return;
    fatal = err;
    logger.error({ err, code: err.code }, 'audit consumer stopped: a chain cannot be written');
    reportFailure(err);
    consumer?.stop().catch(() => {});
  };
  const sought = new Set<number>();
  const heads = new Map<number, { seq: number; offset: string | null }>();
  const counts = { recorded: 0, dropped: 0 };
  let keys: AuditKeyRing | undefined;
  let subjectKeys: SubjectKeyStore | undefined;
  let consumer: ReturnType<KafkaClient['consumer']> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let started: Promise<void> | undefined;
  let closed: Promise<void> | undefined;

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

  /** Closes the writers of partitions this member no longer has, releasing their chains. */
  const closeRevoked = async (assigned: number[]) => {
    for (const [partition, writer] of writers) {
      if (assigned.includes(partition)) continue;
      writers.delete(partition);
      heads.delete(partition);
      await (await writer).close();
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

  async function eachBatch(payload: BatchPayloadLike): Promise<void> {
    try {
      await recordBatch(payload);
    } catch (err) {
      stopOnFatal(err);
      throw err;
    }
  }

  async function recordBatch(payload: BatchPayloadLike): Promise<void> {
    const { batch } = payload;
    const writer = await writerFor(batch.partition);
    const stored = writer.head().lastSource;
    const last =
      stored && stored.topic === batch.topic && stored.partition === batch.partition
        ? BigInt(stored.offset)
        : -1n;
    const fresh = batch.messages.filter((m) => BigInt(m.offset) > last);
    counts.dropped += batch.messages.length - fresh.length;
    const first = fresh[0];
    if (first && last >= 0n && BigInt(first.offset) > last + 1n) {
      // The group's committed offset is ahead of the store: go back for the missing records once.
      if (!sought.has(batch.partition)) {
        sought.add(batch.partition);
        logger.warn(
          { partition: batch.partition, stored: String(last), fetched: first.offset },
          'seeking back to the stored offset',
        );
        consumer!.seek({ topic: batch.topic, partition: batch.partition, offset: String(last + 1n) });
        return;
      }
      logger.error(
        { partition: batch.partition, missing: `${last + 1n}..${BigInt(first.offset) - 1n}` },
        'source records are gone (retention?); the chain records where it resumed',
      );
    }
    sought.delete(batch.partition);
    const records: ActionRecord[] = [];
    for (const message of fresh) {
      if (!payload.isRunning() || payload.isStale()) break;
      records.push(
        await actionRecordOf(deps.serde, message, { topic: batch.topic, partition: batch.partition }, logger),
      );
    }
    if (records.length > 0) {
      const entries = await writer.append(records);
      counts.recorded += entries.length;
      counts.dropped += records.length - entries.length;
      const head = writer.head();
      heads.set(batch.partition, { seq: head.seq, offset: head.lastSource?.offset ?? null });
    }
    const done =
      records.at(-1)?.source.offset ?? (fresh.length === 0 ? batch.messages.at(-1)?.offset : undefined);
    if (done !== undefined) {
      payload.resolveOffset(done);
      await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
    }
    await payload.heartbeat();
  }

  async function seekToStored(partitions: number[]): Promise<void> {
    for (const partition of partitions) {
      const stored = (await writerFor(partition)).head().lastSource;
      if (!stored || stored.topic !== config.topic || stored.partition !== partition) continue;
      consumer!.seek({ topic: config.topic, partition, offset: String(BigInt(stored.offset) + 1n) });
    }
  }

  async function run(): Promise<void> {
    keys = deps.keys ?? (await loadAuditKeys({ keyFile: config.keyFile }));
    subjectKeys = await openSubjectKeyFile(
      config.subjectKeyFile ?? join(config.dir, 'subject-keys.json'),
      keys,
    );
    if (keys.development)
      logger.warn('audit is running with a DEVELOPMENT key file; do not use it in production');
    consumer = deps.kafka.consumer({
      groupId: config.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 500,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: Math.floor(config.sessionTimeoutMs / 10),
    });
    // On every (re)assignment start each partition right after its chain's last recorded offset,
    // whatever the group committed: the store, not Kafka, is the truth of what is recorded.
    let joinedOnce: () => void = () => {};
    const joined = new Promise<void>((resolve) => {
      joinedOnce = resolve;
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assigned = (event.payload.memberAssignment as Record<string, number[]>)[config.topic] ?? [];
      closeRevoked(assigned)
        .then(() => seekToStored(assigned))
        .then(
          () => joinedOnce(),
          (err: unknown) => {
            logger.error({ err }, 'could not open the assigned chains');
            stopOnFatal(err);
            // A fatal error fails start() through `failure`; anything else is retried by batches.
            if (!fatal) joinedOnce();
          },
        );
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [config.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
        eachBatch: (payload) => eachBatch(payload as unknown as BatchPayloadLike),
      });
    } catch (err) {
      throw fromKafkaError(err, 'KAFKA_CONSUMER_START', { topic: config.topic });
    }
    running = true;
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
    // A failure later than start() is for failed(); handled here so it is never "unhandled".
    const stoppedEarly = failure.then((err) => Promise.reject(err));
    stoppedEarly.catch(() => {});
    let joinTimer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      joinTimer = setTimeout(
        () =>
          reject(
            new HubError(
              'KAFKA_GROUP_JOIN',
              `group ${config.groupId} got no assignment within ${config.joinTimeoutMs} ms`,
              {
                retriable: true,
                where: { topic: config.topic, group: config.groupId },
              },
            ),
          ),
        config.joinTimeoutMs,
      );
    });
    try {
      await Promise.race([joined, timeout, stoppedEarly]);
    } finally {
      clearTimeout(joinTimer);
    }
  }

  async function shutdown(): Promise<void> {
    if (timer) clearInterval(timer);
    await started?.catch(() => {});
    await consumer?.disconnect();
    running = false;
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
      return { running, ...counts, chains, error: fatal ? fatal.describe() : null };
    },
    failed() {
      return failure;
    },
  };
}

/** The parts of a kafkajs message and batch payload used here (kafkajs stays inside platform/). */
interface BatchPayloadLike {
  batch: { topic: string; partition: number; messages: KafkaMessageLike[] };
  resolveOffset(offset: string): void;
  commitOffsetsIfNecessary(offsets?: unknown): Promise<void>;
  uncommittedOffsets(): unknown;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}
