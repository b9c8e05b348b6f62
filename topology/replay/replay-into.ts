import { HubError, toHubError, UsageError } from '../../core/errors.ts';
import { createOffsetAdmin } from '../../platform/group-offsets.ts';
import {
  type ActionEmitter,
  createEventProducer,
  ensureTopic,
  type HubContext,
  type RawRecord,
} from '../../platform/index.ts';
import { type PartitionRange, type RangeRecord, readRange } from '../../platform/replay-reader.ts';
import type { CheckpointStore, ReplayCheckpoint } from './checkpoint.ts';
import { type EventFilter, matchesFilter } from './filter.ts';
import { replayIdFor } from './headers.ts';
import { formatPosition, type PositionSpec, resolvePosition } from './positions.ts';
import { writtenSinceCheckpoint } from './recover.ts';
import { chunkRecords, replayRecord } from './replay-records.ts';
import { createWriteGate } from './write-gate.ts';

/** Progress of a running replay, reported after every handled batch. */
export interface ReplayProgress {
  /** Source offsets covered so far (records read, kept or filtered out). */
  scanned: number;
  total: number;
  written: number;
}

export interface ReplayIntoOptions {
  hub: Pick<HubContext, 'kafka' | 'producer' | 'serde' | 'logger'>;
  checkpoints: CheckpointStore;
  topic: string;
  into: string;
  from: PositionSpec;
  /** End of the range, exclusive; the log's end when the replay starts by default. */
  to?: PositionSpec;
  filter?: EventFilter;
  /** Replay id; by default derived from the arguments, so the same command resumes. */
  id?: string;
  dryRun?: boolean;
  /** Create `into` when missing, with the source's partition count and the broker's defaults. */
  createTarget?: boolean;
  actions?: ActionEmitter;
  actor: string;
  signal?: AbortSignal;
  onProgress?: (progress: ReplayProgress) => void;
  /** Source partitions read and written at once (one producer each); 4 by default. */
  concurrency?: number;
  /** How often progress is checkpointed; the resume is exact whatever the interval. */
  checkpointIntervalMs?: number;
}

export interface ReplayResult {
  id: string;
  status: 'finished' | 'already-finished' | 'dry-run';
  resumed: boolean;
  /** Records the replay has written into the target, over all its runs. */
  written: number;
  /** Of those, records written by this call (a resume writes only the rest). */
  writtenNow: number;
  /** Source offsets in the range [from, to), over all partitions. */
  total: number;
  /** Records a dry run would write (equal to total without a filter). */
  matching?: number;
  ranges: PartitionRange[];
  /** `same`: record i of source partition p goes to target partition p; `by-key`: the key decides. */
  partitioning: 'same' | 'by-key';
  durationMs: number;
}

const sum = (ranges: PartitionRange[], next: Record<string, string>) =>
  ranges.reduce((n, r) => n + Number(BigInt(next[String(r.partition)] ?? r.from) - BigInt(r.from)), 0);

/**
 * Re-publishes [from, to) of `topic` into `into`: original key, value, headers and timestamp,
 * plus replay headers (original topic, partition, offset, replay id). Resumable: progress is
 * checkpointed by replay id, and on resume the records written after the last checkpoint are
 * found in the target and skipped, so every source record is written exactly once per replay id
 * (as long as the target still holds what was written since the last checkpoint).
 */
export async function replayInto(options: ReplayIntoOptions): Promise<ReplayResult> {
  const { hub, topic, into, checkpoints } = options;
  const started = Date.now();
  const filter = options.filter ?? { types: [] };
  const concurrency = Math.max(1, options.concurrency ?? 4);
  if (topic === into) throw new UsageError('--into must name another topic than --topic');
  const admin = createOffsetAdmin(hub.kafka);
  await admin.start();
  try {
    if (
      options.createTarget &&
      !options.dryRun &&
      (await admin.topicExists(topic)) &&
      !(await admin.topicExists(into))
    ) {
      // Same partition count as the source: the copy keeps the layout, record for record.
      await ensureTopic({ kafka: hub.kafka, topic: into, partitions: (await admin.bounds(topic)).length });
    }
    for (const t of [topic, into]) {
      if (!(await admin.topicExists(t))) {
        throw new HubError('REPLAY_TOPIC_MISSING', `topic ${t} does not exist`, {
          where: { topic: t },
          hint: 'check the name; a missing target is created with --create (tributary replay) or createTarget',
        });
      }
    }
    const fromText = formatPosition(options.from);
    const toText = options.to ? formatPosition(options.to) : 'latest';
    const id = options.id ?? replayIdFor({ topic, into, from: fromText, to: toText, filter: filter.types });
    const sourceParts = (await admin.bounds(topic)).length;
    const targetEnds = await admin.bounds(into);
    const partitioning: ReplayResult['partitioning'] = sourceParts === targetEnds.length ? 'same' : 'by-key';

    let checkpoint = options.dryRun ? undefined : await checkpoints.load(id);
    if (checkpoint && (checkpoint.topic !== topic || checkpoint.into !== into)) {
      throw new UsageError(
        `replay ${id} copies ${checkpoint.topic} into ${checkpoint.into}, not ${topic} into ${into}`,
        'use another --id',
      );
    }
    const resumed = checkpoint !== undefined;
    // Set once the checkpoint (and what the target holds past it) is known.
    let writtenBefore = 0;
    const result = (
      status: ReplayResult['status'],
      cp: ReplayCheckpoint,
      extra: Partial<ReplayResult> = {},
    ): ReplayResult => ({
      id,
      status,
      resumed,
      written: cp.written,
      writtenNow: cp.written - writtenBefore,
      total: sum(cp.ranges, Object.fromEntries(cp.ranges.map((r) => [String(r.partition), r.to]))),
      ranges: cp.ranges,
      partitioning,
      durationMs: Date.now() - started,
      ...extra,
    });
    if (checkpoint?.status === 'finished') {
      writtenBefore = checkpoint.written;
      return result('already-finished', checkpoint);
    }

    let skip = new Map<number, Set<string>>();
    if (checkpoint) {
      skip = await writtenSinceCheckpoint({
        kafka: hub.kafka,
        replayId: id,
        source: topic,
        target: into,
        targetMarks: checkpoint.targetMarks,
        targetEnds,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      for (const offsets of skip.values()) checkpoint.written += offsets.size;
    } else {
      const starts = await resolvePosition(admin, topic, options.from, 'earliest');
      const ends = await resolvePosition(admin, topic, options.to ?? { kind: 'latest' }, 'latest');
      const ranges = [...starts].map(([partition, from]) => {
        const to = ends.get(partition) ?? from;
        return { partition, from, to: BigInt(to) < BigInt(from) ? from : to };
      });
      const now = new Date().toISOString();
      checkpoint = {
        id,
        topic,
        into,
        filter: filter.types,
        from: fromText,
        to: toText,
        ranges,
        next: Object.fromEntries(ranges.map((r) => [String(r.partition), r.from])),
        targetMarks: Object.fromEntries(targetEnds.map((e) => [String(e.partition), e.high])),
        written: 0,
        status: 'running',
        startedAt: now,
        updatedAt: now,
      };
    }
    const cp: ReplayCheckpoint = checkpoint;
    writtenBefore = cp.written;
    // A resumed replay keeps the filter it started with, whatever this call says.
    const keep: EventFilter = { types: cp.filter };
    const total = result('finished', cp).total;
    const progress = () =>
      options.onProgress?.({ scanned: sum(cp.ranges, cp.next), total, written: cp.written });

    if (options.dryRun) {
      let matching = 0;
      if (keep.types.length > 0) {
        await readRange({
          kafka: hub.kafka,
          topic,
          ranges: cp.ranges,
          ...(options.signal ? { signal: options.signal } : {}),
          onBatch: async (partition, records, next) => {
            for (const r of records) if (await matchesFilter(keep, { topic, ...r }, hub.serde)) matching++;
            cp.next[String(partition)] = next;
            progress();
          },
        });
      } else matching = total;
      return result('dry-run', cp, { matching });
    }

    const audit = (
      action: string,
      outcome: 'succeeded' | 'failed',
      details: Record<string, string | number>,
    ) =>
      options.actions?.emit({
        action,
        actor: options.actor,
        resource: topic,
        outcome,
        details: {
          mode: 'into',
          id,
          into,
          from: cp.from,
          to: cp.to,
          filter: cp.filter.join(','),
          ...details,
        },
      });
    await audit('replay.start', 'succeeded', { total, resumed: String(resumed), written: cp.written });

    let lastSave = Date.now();
    const saveCheckpoint = async (status: ReplayCheckpoint['status']) => {
      // Called with no write in flight (the gate's exclusive side): the target's ends now are
      // past everything `next` and `written` count, and later writes land after them.
      const ends = await admin.bounds(into);
      cp.targetMarks = Object.fromEntries(ends.map((e) => [String(e.partition), e.high]));
      cp.status = status;
      cp.updatedAt = new Date().toISOString();
      await checkpoints.save(cp);
      lastSave = Date.now();
    };
    await saveCheckpoint('running');

    // One idempotent producer per lane: a lane sends one request at a time (order per partition
    // across retries), several lanes keep several requests in flight. The records are bytes
    // already, so the lanes' clients stay on this thread (no producer thread per lane).
    const lanes = Array.from({ length: concurrency }, () =>
      createEventProducer({ kafka: hub.kafka, serde: hub.serde, logger: hub.logger, thread: false }),
    );
    const gate = createWriteGate();
    let broken = false;
    const interval = options.checkpointIntervalMs ?? 1000;
    const copyBatch = async (partition: number, records: RangeRecord[], next: string) => {
      const already = skip.get(partition);
      const out: RawRecord[] = [];
      for (const r of records) {
        if (already?.has(r.offset)) continue;
        if (!(await matchesFilter(keep, { topic, ...r }, hub.serde))) continue;
        out.push(replayRecord(r, { topic, replayId: id, keepPartition: partitioning === 'same' }));
      }
      const lane = lanes[partition % lanes.length] ?? hub.producer;
      await gate.shared(async () => {
        if (broken) return;
        for (const chunk of chunkRecords(out)) await lane.publishRaw(into, chunk);
        cp.next[String(partition)] = next;
        cp.written += out.length;
      });
      if (Date.now() - lastSave >= interval) {
        await gate.exclusive(async () => {
          if (!broken && Date.now() - lastSave >= interval) await saveCheckpoint('running');
        });
      }
      progress();
    };

    try {
      await readRange({
        kafka: hub.kafka,
        topic,
        ranges: cp.ranges.map((r) => ({ ...r, from: cp.next[String(r.partition)] ?? r.from })),
        concurrency,
        ...(options.signal ? { signal: options.signal } : {}),
        logger: hub.logger,
        onBatch: async (partition, records, next) => {
          // After a failed write nothing more is written: the resume starts from a clean edge.
          if (broken) return;
          try {
            await copyBatch(partition, records, next);
          } catch (err) {
            broken = true;
            throw err;
          }
        },
      });
      await gate.exclusive(() => saveCheckpoint('finished'));
    } catch (err) {
      // readRange returns only once no batch is being handled; this save waits for nothing.
      // Best effort: if it fails too, the resume still finds the writes in the target.
      await gate.exclusive(() => saveCheckpoint('running')).catch(() => undefined);
      const error = toHubError(err, 'REPLAY_FAILED', { topic });
      await audit('replay.finished', 'failed', {
        written: cp.written,
        scanned: sum(cp.ranges, cp.next),
        error: options.signal?.aborted ? 'INTERRUPTED' : error.code,
      })?.catch(() => undefined);
      throw err;
    } finally {
      await Promise.all(lanes.map((lane) => lane.close().catch(() => undefined)));
    }
    await audit('replay.finished', 'succeeded', {
      written: cp.written,
      scanned: sum(cp.ranges, cp.next),
      durationMs: Date.now() - started,
    });
    return result('finished', cp);
  } finally {
    await admin.close();
  }
}
