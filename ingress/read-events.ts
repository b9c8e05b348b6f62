import { HubError } from '../core/errors.ts';
import { createHubAdmin } from '../platform/admin.ts';
import type { HubContext } from '../platform/index.ts';
import { type RangeRecord, readRange } from '../platform/replay-reader.ts';

/**
 * `GET /v1/topics/{topic}/events`: pages through a topic's events, decoded to JSON.
 * A page starts at `from` (an offset, applied to every partition read, or an ISO 8601 time:
 * the first record at or after it), or at a cursor a previous page returned, and holds at most
 * `limit` events merged across partitions by broker timestamp. Each partition's part of a page
 * is a prefix of what follows its position, so the `next` cursor (the position per partition
 * after the page) never skips nor repeats a record.
 */

export interface ReadPageRequest {
  topic: string;
  from?: string;
  cursor?: string;
  limit: number;
  partition?: number;
}

export interface PageEvent {
  partition: number;
  offset: string;
  /** Broker timestamp, epoch ms. */
  timestamp: number;
  key: string | null;
  /** Avro full name of the writer's schema. */
  type?: string;
  /** The decoded event (envelope and data); bytes as base64, longs beyond 2^53 as strings. */
  event?: unknown;
  /** Why the record could not be decoded (it is listed anyway so paging stays exact). */
  error?: { code: string; message: string };
}

export interface Page {
  topic: string;
  events: PageEvent[];
  /** Cursor of the next page (pass as `cursor=`); present even at the end, for polling. */
  next: string;
  /** True when records were already waiting beyond this page when it was read. */
  hasMore: boolean;
}

interface CursorBody {
  t: string;
  p: Record<string, string>;
}

function badRequest(message: string, field: string): HubError {
  return new HubError('HTTP_BAD_REQUEST', message, { where: { field } });
}

function encodeCursor(topic: string, positions: Map<number, bigint>): string {
  const body: CursorBody = { t: topic, p: {} };
  for (const [partition, offset] of [...positions].sort((a, b) => a[0] - b[0]))
    body.p[String(partition)] = offset.toString();
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

function decodeCursor(topic: string, cursor: string): Map<number, bigint> {
  try {
    const body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorBody;
    if (body.t !== topic) throw new Error('topic differs');
    return new Map(Object.entries(body.p).map(([p, o]) => [Number(p), BigInt(o)] as const));
  } catch {
    throw badRequest('cursor is not one this topic returned', 'cursor');
  }
}

/** Plain JSON of a decoded value (bytes as base64, bigints as strings). */
function toJson(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => {
      if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') {
        return Buffer.from((v as { data: number[] }).data).toString('base64');
      }
      return typeof v === 'bigint' ? v.toString() : v;
    }),
  );
}

const clamp = (v: bigint, low: bigint, high: bigint) => (v < low ? low : v > high ? high : v);

/** Where each partition's page starts, from the cursor, `from` or the earliest offset. */
async function startPositions(
  hub: HubContext,
  request: ReadPageRequest,
  bounds: Map<number, { low: bigint; high: bigint }>,
): Promise<Map<number, bigint>> {
  const positions = new Map<number, bigint>();
  if (request.cursor) {
    const fromCursor = decodeCursor(request.topic, request.cursor);
    for (const [p, b] of bounds) positions.set(p, clamp(fromCursor.get(p) ?? b.low, b.low, b.high));
    return positions;
  }
  const from = request.from;
  if (from === undefined || from === '') {
    for (const [p, b] of bounds) positions.set(p, b.low);
  } else if (/^\d+$/.test(from)) {
    for (const [p, b] of bounds) positions.set(p, clamp(BigInt(from), b.low, b.high));
  } else {
    const time = Date.parse(from);
    if (!Number.isFinite(time))
      throw badRequest('from must be an offset (digits) or an ISO 8601 time', 'from');
    const admin = hub.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsetsByTimestamp(request.topic, time);
      for (const { partition, offset } of offsets) {
        const b = bounds.get(partition);
        // -1: no record at or after the time, so the page starts at the end.
        if (b) positions.set(partition, offset === '-1' ? b.high : clamp(BigInt(offset), b.low, b.high));
      }
    } finally {
      await admin.disconnect();
    }
  }
  return positions;
}

async function partitionBounds(hub: HubContext, topic: string) {
  const admin = createHubAdmin(hub.kafka);
  await admin.start();
  try {
    const names = await admin.listTopicNames({ includeInternal: true });
    if (!names.includes(topic)) {
      throw new HubError('HTTP_NOT_FOUND', `no topic ${topic}`, { where: { topic } });
    }
    const offsets = await admin.endOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }] as const));
  } finally {
    await admin.close();
  }
}

/** Merges partition runs by timestamp, always taking a run's head, so each run is consumed as a prefix. */
function mergeByTime(runs: Map<number, RangeRecord[]>, limit: number): RangeRecord[] {
  const heads = new Map<number, number>([...runs.keys()].map((p) => [p, 0]));
  const out: RangeRecord[] = [];
  while (out.length < limit) {
    let best: RangeRecord | undefined;
    for (const [p, i] of heads) {
      const record = runs.get(p)?.[i];
      if (!record) continue;
      if (
        !best ||
        Number(record.timestamp) < Number(best.timestamp) ||
        (record.timestamp === best.timestamp && record.partition < best.partition)
      )
        best = record;
    }
    if (!best) break;
    out.push(best);
    heads.set(best.partition, (heads.get(best.partition) ?? 0) + 1);
  }
  return out;
}

/** Reads one page (see the file comment). */
export async function readEventsPage(hub: HubContext, request: ReadPageRequest): Promise<Page> {
  const all = await partitionBounds(hub, request.topic);
  if (request.partition !== undefined && !all.has(request.partition)) {
    throw badRequest(`topic ${request.topic} has no partition ${request.partition}`, 'partition');
  }
  const bounds =
    request.partition === undefined
      ? all
      : new Map([[request.partition, all.get(request.partition) as { low: bigint; high: bigint }]]);
  const positions = await startPositions(hub, request, bounds);
  const limit = BigInt(request.limit);
  const ranges = [...positions]
    .map(([partition, from]) => {
      const high = bounds.get(partition)?.high ?? from;
      const to = from + limit < high ? from + limit : high;
      return { partition, from: from.toString(), to: to.toString() };
    })
    .filter((r) => BigInt(r.from) < BigInt(r.to));
  const runs = new Map<number, RangeRecord[]>();
  await readRange({
    kafka: hub.kafka,
    topic: request.topic,
    ranges,
    idleTimeoutMs: 30_000,
    async onBatch(partition, records) {
      runs.set(partition, [...(runs.get(partition) ?? []), ...records]);
    },
  });
  const page = mergeByTime(runs, request.limit);
  const next = new Map(positions);
  for (const record of page) next.set(record.partition, BigInt(record.offset) + 1n);
  const hasMore = [...next].some(([p, offset]) => offset < (bounds.get(p)?.high ?? offset));
  const events: PageEvent[] = [];
  for (const record of page) {
    const base: PageEvent = {
      partition: record.partition,
      offset: record.offset,
      timestamp: Number(record.timestamp),
      key: record.key === null ? null : record.key.toString('utf8'),
    };
    if (record.value === null) {
      events.push({ ...base, error: { code: 'TOMBSTONE', message: 'the record has no value (a deletion)' } });
      continue;
    }
    try {
      const decoded = await hub.serde.decode(record.value, {
        topic: request.topic,
        partition: record.partition,
        offset: record.offset,
      });
      events.push({ ...base, type: decoded.schemaName, event: toJson(decoded.value) });
    } catch (err) {
      const hubError = err instanceof HubError ? err : undefined;
      events.push({
        ...base,
        error: { code: hubError?.code ?? 'DECODE_FAILED', message: (err as Error).message },
      });
    }
  }
  return { topic: request.topic, events, next: encodeCursor(request.topic, next), hasMore };
}
