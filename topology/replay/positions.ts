import { UsageError } from '../../core/errors.ts';
import type { OffsetAdmin } from '../../platform/group-offsets.ts';

/**
 * Where a replay starts or ends, as a person writes it on the command line:
 * - `earliest` / `latest`;
 * - an ISO-8601 date-time (`2026-11-24T10:00:00Z`), or `time:<epoch ms>`, or a bare integer of
 *   13 digits or more (epoch millis: every time since 2001);
 * - `offset:<n>` or a bare integer below 10^12: the same offset on every partition;
 * - `<partition>:<offset>,...` (e.g. `0:120,1:80`): per partition; unlisted partitions use the
 *   log's start for `--from` and its end for `--to`.
 */
export type PositionSpec =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'time'; timeMs: number }
  | { kind: 'offset'; offset: bigint }
  | { kind: 'partitions'; offsets: Map<number, bigint> };

// Epoch millis have 13 digits since 2001-09-09; offsets that large are written `offset:<n>`.
const epochMillisFloor = 1_000_000_000_000n;

/** Parses a `--from` / `--to` value; throws UsageError naming the option when it is wrong. */
export function parsePosition(text: string, option: string): PositionSpec {
  const value = text.trim();
  const bad = () =>
    new UsageError(
      `${option} "${text}" is neither a time nor an offset`,
      'use earliest, latest, an ISO-8601 time (2026-11-24T10:00:00Z), epoch millis, offset:<n> or <partition>:<offset>,...',
    );
  if (value === 'earliest' || value === 'latest') return { kind: value };
  if (/^offset:\d+$/.test(value)) return { kind: 'offset', offset: BigInt(value.slice(7)) };
  if (/^time:\d+$/.test(value)) return { kind: 'time', timeMs: Number(value.slice(5)) };
  if (/^\d+$/.test(value)) {
    const n = BigInt(value);
    return n >= epochMillisFloor ? { kind: 'time', timeMs: Number(n) } : { kind: 'offset', offset: n };
  }
  if (/^\d+:\d+(,\d+:\d+)*$/.test(value)) {
    const offsets = new Map<number, bigint>();
    for (const pair of value.split(',')) {
      const [p, o] = pair.split(':');
      offsets.set(Number(p), BigInt(o ?? '0'));
    }
    return { kind: 'partitions', offsets };
  }
  // Only full date-times: Date.parse also accepts "1" or "May", which would be a silent surprise.
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return { kind: 'time', timeMs: ms };
  }
  throw bad();
}

/** Text form of a spec, for plans, checkpoints and audit details. */
export function formatPosition(spec: PositionSpec): string {
  switch (spec.kind) {
    case 'earliest':
    case 'latest':
      return spec.kind;
    case 'time':
      return new Date(spec.timeMs).toISOString();
    case 'offset':
      return `offset:${spec.offset}`;
    case 'partitions':
      return [...spec.offsets].map(([p, o]) => `${p}:${o}`).join(',');
  }
}

/**
 * Turns a spec into one offset per partition of `topic`, clamped to what the log still holds
 * (an offset before the log start means the start, after its end means the end), as
 * kafka-consumer-groups does. `missing` says what unlisted partitions of a per-partition spec get.
 */
export async function resolvePosition(
  admin: OffsetAdmin,
  topic: string,
  spec: PositionSpec,
  missing: 'earliest' | 'latest',
): Promise<Map<number, string>> {
  const bounds = await admin.bounds(topic);
  const atTime =
    spec.kind === 'time'
      ? new Map((await admin.offsetsAtTime(topic, spec.timeMs)).map((o) => [o.partition, o.offset]))
      : undefined;
  const result = new Map<number, string>();
  for (const b of bounds) {
    const low = BigInt(b.low);
    const high = BigInt(b.high);
    let wanted: bigint;
    if (spec.kind === 'earliest') wanted = low;
    else if (spec.kind === 'latest') wanted = high;
    else if (spec.kind === 'time') wanted = BigInt(atTime?.get(b.partition) ?? b.high);
    else if (spec.kind === 'offset') wanted = spec.offset;
    else wanted = spec.offsets.get(b.partition) ?? (missing === 'earliest' ? low : high);
    result.set(b.partition, (wanted < low ? low : wanted > high ? high : wanted).toString());
  }
  if (spec.kind === 'partitions') {
    const unknown = [...spec.offsets.keys()].filter((p) => !result.has(p));
    if (unknown.length > 0) {
      throw new UsageError(
        `topic ${topic} has no partition ${unknown.join(', ')}`,
        `it has partitions 0..${bounds.length - 1}`,
      );
    }
  }
  return result;
}
