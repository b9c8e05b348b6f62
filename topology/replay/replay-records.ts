import type { RawRecord } from '../../platform/index.ts';
import type { RangeRecord } from '../../platform/replay-reader.ts';
import { ReplayHeaders } from './headers.ts';

// One produce request stays well below the broker's default 1 MiB message.max.bytes.
const maxChunkBytes = 512 * 1024;
const maxChunkRecords = 5000;

/** The copy of a source record: same key, value, headers and timestamp, plus replay headers. */
export function replayRecord(
  r: RangeRecord,
  origin: { topic: string; replayId: string; keepPartition: boolean },
): RawRecord {
  return {
    key: r.key,
    value: r.value,
    headers: {
      ...r.headers,
      [ReplayHeaders.originalTopic]: origin.topic,
      [ReplayHeaders.originalPartition]: String(r.partition),
      [ReplayHeaders.originalOffset]: r.offset,
      [ReplayHeaders.id]: origin.replayId,
    },
    timestamp: r.timestamp,
    ...(origin.keepPartition ? { partition: r.partition } : {}),
  };
}

function recordSize(r: RawRecord): number {
  let size = (r.key?.length ?? 0) + (r.value?.length ?? 0) + 64;
  for (const [name, v] of Object.entries(r.headers ?? {})) {
    size += name.length + (Array.isArray(v) ? v.reduce((n, x) => n + x.length, 0) : (v?.length ?? 0));
  }
  return size;
}

/** Splits records into produce requests of bounded size, keeping their order. */
export function chunkRecords(records: RawRecord[]): RawRecord[][] {
  const chunks: RawRecord[][] = [];
  let current: RawRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = recordSize(r);
    if (current.length > 0 && (bytes + size > maxChunkBytes || current.length >= maxChunkRecords)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
