import { UsageError } from '../../core/errors.ts';
import { createOffsetAdmin } from '../../platform/group-offsets.ts';
import { type ActionEmitter, type HubContext, redriveRecord } from '../../platform/index.ts';
import type { RedriveMarkers } from './markers.ts';
import { type DeadLetterView, dlqTopicName, readDeadLetters } from './read.ts';

/**
 * Which dead letters to redrive: any listed code AND any listed stage (empty = any) AND, when
 * `records` is given, only those DLQ positions (the console's one-record redrive).
 */
export interface RedriveWhere {
  codes: string[];
  stages: string[];
  records?: { partition: number; offset: string }[];
}

const whereKeys = { code: 'codes', stage: 'stages' } as const;

/** Parses `--where code=X` / `--where stage=Y` (repeatable; `code=A,B` means A or B). */
export function parseWhere(values: readonly string[] | undefined): RedriveWhere {
  const where: RedriveWhere = { codes: [], stages: [] };
  for (const value of values ?? []) {
    const match = /^(code|stage)=(.+)$/.exec(value.trim());
    if (!match?.[1] || !match[2]) {
      throw new UsageError(
        `unknown condition "${value}"`,
        'use --where code=<error code> or --where stage=<stage>',
      );
    }
    where[whereKeys[match[1] as keyof typeof whereKeys]].push(...match[2].split(',').map((s) => s.trim()));
  }
  return where;
}

/** True when a dead letter satisfies the conditions. */
export function matchesWhere(where: RedriveWhere, letter: DeadLetterView): boolean {
  if (!letter.info) return false;
  if (where.codes.length > 0 && !where.codes.includes(letter.info.errorCode)) return false;
  if (where.stages.length > 0 && !where.stages.includes(letter.info.stage)) return false;
  if (
    where.records &&
    !where.records.some((r) => r.partition === letter.partition && r.offset === letter.offset)
  )
    return false;
  return true;
}

/** One dead letter a redrive sent back (or, in a dry run, would send). */
export interface RedrivenRecord {
  partition: number;
  offset: string;
  errorCode: string;
  stage: string;
  target: string;
  /** Offset of the copy in the source topic; absent in a dry run. */
  targetPartition?: number;
  targetOffset?: string;
}

export interface RedriveResult {
  topic: string;
  dryRun: boolean;
  /** Records in the DLQ topic. */
  considered: number;
  /** Records without DLQ headers: their source is unknown, they are never sent. */
  notDeadLetters: number;
  /** Matching records skipped because an earlier redrive already sent them. */
  alreadyRedriven: number;
  records: RedrivenRecord[];
}

/**
 * Sends the matching dead letters of a DLQ topic back to their source topics (original key and
 * value, headers without the DLQ context, plus a redrive count), marks each one so that no later
 * redrive sends it again, and emits a `dlq.redrive` audit action per record. A crash between a
 * send and its marker redrives that one record twice at most; consumers drop it by event id.
 */
export async function redriveDeadLetters(options: {
  hub: Pick<HubContext, 'kafka' | 'producer' | 'serde'>;
  markers: RedriveMarkers;
  topic: string;
  where?: RedriveWhere;
  dryRun?: boolean;
  actions?: ActionEmitter;
  actor: string;
  signal?: AbortSignal;
}): Promise<RedriveResult> {
  const { hub, markers, actor } = options;
  const topic = dlqTopicName(options.topic);
  const where = options.where ?? { codes: [], stages: [] };
  const admin = createOffsetAdmin(hub.kafka);
  await admin.start();
  let letters: DeadLetterView[];
  let done: Map<string, unknown>;
  try {
    // Both reads join a consumer group (seconds each on a broker with the default initial
    // rebalance delay): run them side by side.
    [letters, done] = await Promise.all([
      readDeadLetters({
        kafka: hub.kafka,
        admin,
        topic,
        ...(options.signal ? { signal: options.signal } : {}),
      }),
      markers.redriven(topic),
    ]);
  } finally {
    await admin.close();
  }
  const result: RedriveResult = {
    topic,
    dryRun: options.dryRun ?? false,
    considered: letters.length,
    notDeadLetters: letters.filter((l) => !l.info).length,
    alreadyRedriven: 0,
    records: [],
  };
  for (const letter of letters) {
    options.signal?.throwIfAborted();
    const info = letter.info;
    if (!info || !matchesWhere(where, letter)) continue;
    if (done.has(`${letter.partition}/${letter.offset}`)) {
      result.alreadyRedriven++;
      continue;
    }
    const from = { topic, partition: letter.partition, offset: letter.offset };
    const { topic: target, record } = redriveRecord(letter.raw, from);
    const line: RedrivenRecord = {
      partition: letter.partition,
      offset: letter.offset,
      errorCode: info.errorCode,
      stage: info.stage,
      target,
    };
    result.records.push(line);
    if (result.dryRun) continue;
    const [sent] = await hub.producer.publishRaw(target, [record]);
    line.targetPartition = sent?.partition ?? -1;
    line.targetOffset = sent?.baseOffset ?? '-1';
    await markers.mark(topic, [
      {
        partition: letter.partition,
        offset: letter.offset,
        marker: {
          redrivenAt: new Date().toISOString(),
          actor,
          target,
          targetPartition: line.targetPartition,
          targetOffset: line.targetOffset,
        },
      },
    ]);
    await options.actions?.emit({
      action: 'dlq.redrive',
      actor,
      resource: target,
      outcome: 'succeeded',
      details: {
        dlqTopic: topic,
        partition: letter.partition,
        offset: letter.offset,
        errorCode: info.errorCode,
        stage: info.stage,
        targetPartition: line.targetPartition,
        targetOffset: line.targetOffset,
        ...(letter.eventId ? { eventId: letter.eventId } : {}),
      },
    });
  }
  return result;
}
