import { randomUUID } from 'node:crypto';
import { HubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { KafkaClient } from './kafka.ts';
import { fromKafkaError } from './kafka-errors.ts';
import type { RawHeaders } from './records.ts';

/** One record of a range read: exact bytes, headers and the broker timestamp. */
export interface RangeRecord {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: RawHeaders;
  /** Epoch millis as a decimal string. */
  timestamp: string;
}

/** The half-open offset range [from, to) to read on one partition. */
export interface PartitionRange {
  partition: number;
  from: string;
  to: string;
}

export interface ReadRangeOptions {
  kafka: KafkaClient;
  topic: string;
  ranges: PartitionRange[];
  /**
   * Called with the records of one fetched batch of one partition, in offset order, and the
   * offset to resume that partition from once they are handled. Calls for one partition never
   * overlap; calls for different partitions may (see `concurrency`).
   */
  onBatch: (partition: number, records: RangeRecord[], next: string) => Promise<void>;
  /** Partitions fetched and handled at the same time (kafkajs partitionsConsumedConcurrently). */
  concurrency?: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** Fails the read when no partition makes progress for this long (a stuck broker). */
  idleTimeoutMs?: number;
}

/**
 * Reads exact offset ranges of a topic, byte for byte. kafkajs has no manual partition
 * assignment, so the reader joins a throw-away consumer group of its own, seeks every partition
 * to its range start, never commits, and deletes the group afterwards. Records outside a range
 * are dropped, so a fetch that raced a seek is harmless. Resolves once every partition reached
 * its `to`; rejects on abort (no `onBatch` is running by then).
 */
export async function readRange(options: ReadRangeOptions): Promise<void> {
  const { kafka, topic, onBatch } = options;
  const pending = new Map<number, { position: bigint; to: bigint }>();
  for (const r of options.ranges) {
    if (BigInt(r.from) < BigInt(r.to))
      pending.set(r.partition, { position: BigInt(r.from), to: BigInt(r.to) });
  }
  if (pending.size === 0) return;
  options.signal?.throwIfAborted();

  const groupId = `_tributary.reader.${topic}.${randomUUID()}`;
  const admin = kafka.admin();
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 250,
    // Replays read big ranges: larger fetches mean fewer round trips.
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
  });
  let lastProgress = Date.now();
  // Batches fetched before the seeks were given come from the log end: never count them.
  let seeked = false;
  let failure: unknown;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });

  /** Moves a partition forward; pauses it and maybe finishes the read once its range is done. */
  const advance = (partition: number, next: bigint): void => {
    const state = pending.get(partition);
    if (!seeked || !state || next <= state.position) return;
    state.position = next;
    lastProgress = Date.now();
    if (state.position >= state.to) {
      pending.delete(partition);
      consumer.pause([{ topic, partitions: [partition] }]);
      if (pending.size === 0) finish();
    }
  };
  const fail = (err: unknown): void => {
    failure ??= err;
    finish();
  };
  const onAbort = () => fail(options.signal?.reason ?? new Error('aborted'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > idleTimeoutMs) {
      fail(
        new HubError('REPLAY_READ_STALLED', `no progress reading ${topic} for ${idleTimeoutMs} ms`, {
          retriable: true,
          where: { topic, partition: [...pending.keys()][0] },
          hint: 'check the brokers; the range may also end in records the log no longer holds',
        }),
      );
    }
  }, 1000);

  try {
    await admin.connect();
    await consumer.connect();
    // Batches made only of transaction markers never reach eachBatch, but still move the position.
    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
      const p = event.payload as { topic: string; partition: number; lastOffset: string };
      if (p.topic === topic) advance(p.partition, BigInt(p.lastOffset) + 1n);
    });
    // A crash kafkajs will not restart from would otherwise only surface as the idle timeout. A
    // restarted consumer starts over from the log start; positions already reached are skipped.
    consumer.on(consumer.events.CRASH, (event) => {
      const p = event.payload as { error: unknown; restart: boolean };
      if (!p.restart) fail(p.error);
    });
    // fromBeginning: should retention delete the records under a position while it is read
    // (OFFSET_OUT_OF_RANGE), kafkajs resumes from the new log start, not from the end.
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const running = consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: Math.max(1, options.concurrency ?? 4),
      eachBatch: async ({ batch, isRunning, isStale }) => {
        const state = pending.get(batch.partition);
        if (!seeked || !state || failure || !isRunning() || isStale()) return;
        const records: RangeRecord[] = [];
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < state.position) continue; // a fetch may start before the asked offset
          if (offset >= state.to) break;
          records.push({
            partition: batch.partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
            headers: (m.headers ?? {}) as RawHeaders,
            timestamp: m.timestamp,
          });
        }
        // lastOffset() also covers compacted gaps and markers at the tail of the batch.
        const next = BigInt(batch.lastOffset()) + 1n;
        const bounded = next < state.to ? next : state.to;
        try {
          await onBatch(batch.partition, records, bounded.toString());
          advance(batch.partition, bounded);
        } catch (err) {
          fail(err);
        }
      },
    });
    // run() creates the consumer group synchronously, so these seeks are in place before the
    // group is even joined and the first fetch starts at the range start (kafkajs' own
    // admin.setOffsets relies on the same; calling it here would cost seconds per read).
    for (const [partition, state] of pending) {
      consumer.seek({ topic, partition, offset: state.position.toString() });
    }
    seeked = true;
    await running;
    await finished;
  } catch (err) {
    failure ??= err;
  } finally {
    clearInterval(watchdog);
    options.signal?.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => undefined);
    await admin
      .deleteGroups([groupId])
      .catch((err: unknown) => options.logger?.debug({ err, groupId }, 'could not delete reader group'));
    await admin.disconnect().catch(() => undefined);
  }
  if (failure !== undefined) {
    if (failure instanceof HubError || failure === options.signal?.reason) throw failure;
    throw fromKafkaError(failure, 'REPLAY_READ', { topic });
  }
}
