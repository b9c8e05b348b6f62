import type { OffsetAdmin } from '../../platform/group-offsets.ts';
import {
  type DeadLetterInfo,
  EventHeaders,
  headerText,
  type KafkaClient,
  RedriveHeaders,
  readDeadLetterHeaders,
} from '../../platform/index.ts';
import { type RangeRecord, readRange } from '../../platform/replay-reader.ts';
import type { Serde } from '../../schemas/index.ts';

/** The dead-letter topic naming rule: `<topic>.dlq`. */
export const DLQ_SUFFIX = '.dlq';

/** Accepts `orders` or `orders.dlq` and answers the dead-letter topic name. */
export function dlqTopicName(topic: string): string {
  return topic.endsWith(DLQ_SUFFIX) ? topic : `${topic}${DLQ_SUFFIX}`;
}

/** One dead letter as `dlq show` presents it. */
export interface DeadLetterView {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** Broker time the dead letter was written (epoch ms). */
  timestamp: string;
  /** Why and where it failed; undefined for a record without DLQ headers. */
  info: DeadLetterInfo | undefined;
  eventId: string | undefined;
  eventType: string | undefined;
  /** How many times it was already redriven and came back. */
  redriveCount: number;
  /** The decoded event, when the value is a hub event the catalog knows. */
  decoded?: unknown;
  /** Why the value could not be decoded (a decode failure is often why it is here). */
  decodeError?: string;
  /** The raw record, for redrive. */
  raw: RangeRecord;
}

/** Reads every record of a dead-letter topic (or `limit` per partition from the start) with its context. */
export async function readDeadLetters(options: {
  kafka: KafkaClient;
  admin: OffsetAdmin;
  topic: string;
  serde?: Serde;
  /** At most this many records per partition, oldest first. */
  limit?: number;
  signal?: AbortSignal;
}): Promise<DeadLetterView[]> {
  const { topic } = options;
  const bounds = await options.admin.bounds(topic);
  const views: DeadLetterView[] = [];
  await readRange({
    kafka: options.kafka,
    topic,
    ranges: bounds.map((b) => {
      const capped = options.limit === undefined ? BigInt(b.high) : BigInt(b.low) + BigInt(options.limit);
      return {
        partition: b.partition,
        from: b.low,
        to: (capped < BigInt(b.high) ? capped : BigInt(b.high)).toString(),
      };
    }),
    ...(options.signal ? { signal: options.signal } : {}),
    onBatch: async (_partition, records) => {
      for (const r of records) views.push(await view(topic, r, options.serde));
    },
  });
  return views.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

async function view(topic: string, r: RangeRecord, serde?: Serde): Promise<DeadLetterView> {
  const out: DeadLetterView = {
    topic,
    partition: r.partition,
    offset: r.offset,
    key: r.key === null ? null : r.key.toString('utf8'),
    timestamp: r.timestamp,
    info: readDeadLetterHeaders(r.headers),
    eventId: headerText(r.headers, EventHeaders.eventId),
    eventType: headerText(r.headers, EventHeaders.eventType),
    redriveCount: Number(headerText(r.headers, RedriveHeaders.count) ?? '0'),
    raw: r,
  };
  if (serde && r.value) {
    try {
      out.decoded = (await serde.decode(r.value, { topic, partition: r.partition, offset: r.offset })).value;
    } catch (err) {
      out.decodeError = err instanceof Error ? err.message : String(err);
    }
  }
  return out;
}

/** A dead-letter topic and how many records it holds. */
export interface DeadLetterTopicSummary {
  topic: string;
  /** The topic its records came from (by the naming rule). */
  source: string;
  partitions: number;
  /** Records retained (sum of end - start over partitions). */
  records: number;
  /** Dead letters already sent back (redrive markers), when asked for. */
  redriven?: number;
}

/**
 * Every `*.dlq` topic, or only those of the given source/DLQ topics (none for an empty list),
 * with its record count.
 */
export async function listDeadLetterTopics(
  admin: OffsetAdmin,
  only?: readonly string[],
  redrivenCounts?: Map<string, number>,
): Promise<DeadLetterTopicSummary[]> {
  if (only?.length === 0) return [];
  const wanted = only ? new Set(only.map(dlqTopicName)) : undefined;
  const names = (await admin.listTopics()).filter(
    (t) => t.endsWith(DLQ_SUFFIX) && (!wanted || wanted.has(t)),
  );
  const out: DeadLetterTopicSummary[] = [];
  for (const topic of names) {
    const bounds = await admin.bounds(topic);
    out.push({
      topic,
      source: topic.slice(0, -DLQ_SUFFIX.length),
      partitions: bounds.length,
      records: bounds.reduce((n, b) => n + Number(BigInt(b.high) - BigInt(b.low)), 0),
      ...(redrivenCounts ? { redriven: redrivenCounts.get(topic) ?? 0 } : {}),
    });
  }
  return out;
}
