import type { PinnedRecord } from './producer-client.ts';
import type { RawHeaders } from './records.ts';

/**
 * A batch of records as columns, for the hand-over to the producer thread (thread-sender.ts):
 * the values in one buffer, lengths and partitions in typed arrays (all three transferred, not
 * copied), and the headers as columns when every record has the same string headers in the same
 * order (the platform producer's are: content type, event id, event type, trace context),
 * with a column whose value is the same in every record sent once. Anything else keeps one
 * header object per record. Structured cloning a column of strings costs the sending thread
 * much less than cloning an object per record.
 */
export interface PackedRecords {
  values: ArrayBuffer;
  /** Value length per record, -1 for a null value. */
  lengths: Int32Array;
  partitions: Int32Array;
  keys: (string | Uint8Array | null)[];
  /** Absent when no record has a timestamp. */
  timestamps?: (string | undefined)[];
  headers: { columns: HeaderColumns } | { rows: (RawHeaders | undefined)[] };
}

interface HeaderColumns {
  names: string[];
  /** Per name: the value of every record, or undefined when `varying` has them. */
  same: (string | undefined)[];
  /** Per name: each record's value, where they differ. */
  varying: (string[] | undefined)[];
}

/** The buffers to transfer with `packed`. */
export const transferables = (packed: PackedRecords): ArrayBuffer[] => [
  packed.values,
  packed.lengths.buffer as ArrayBuffer,
  packed.partitions.buffer as ArrayBuffer,
];

export function packRecords(records: PinnedRecord[]): PackedRecords {
  const n = records.length;
  let total = 0;
  for (const r of records) total += r.value ? r.value.length : 0;
  const values = Buffer.allocUnsafeSlow(total);
  const lengths = new Int32Array(n);
  const partitions = new Int32Array(n);
  const keys: PackedRecords['keys'] = new Array(n);
  let timestamps: (string | undefined)[] | undefined;
  let at = 0;
  for (let i = 0; i < n; i += 1) {
    const r = records[i]!;
    if (r.value) {
      r.value.copy(values, at);
      at += r.value.length;
      lengths[i] = r.value.length;
    } else lengths[i] = -1;
    partitions[i] = r.partition;
    keys[i] = r.key ?? null;
    if (r.timestamp !== undefined) {
      timestamps ??= new Array(n).fill(undefined);
      timestamps[i] = r.timestamp;
    }
  }
  const columns = headerColumns(records);
  return {
    values: values.buffer as ArrayBuffer,
    lengths,
    partitions,
    keys,
    ...(timestamps ? { timestamps } : {}),
    headers: columns ? { columns } : { rows: records.map((r) => r.headers) },
  };
}

/** The records' headers as columns, or undefined when they don't all have the same string headers. */
function headerColumns(records: PinnedRecord[]): HeaderColumns | undefined {
  const first = records[0]?.headers;
  if (!first) return undefined;
  const names = Object.keys(first);
  const k = names.length;
  const same: (string | undefined)[] = new Array(k);
  const varying: (string[] | undefined)[] = new Array(k).fill(undefined);
  for (let j = 0; j < k; j += 1) {
    const v = first[names[j]!];
    if (typeof v !== 'string') return undefined;
    same[j] = v;
  }
  for (let i = 1; i < records.length; i += 1) {
    const headers = records[i]!.headers;
    if (!headers) return undefined;
    let j = 0;
    for (const name in headers) {
      const v = headers[name];
      if (j >= k || name !== names[j] || typeof v !== 'string') return undefined;
      const column = varying[j];
      if (column) column.push(v);
      else if (v !== same[j]) {
        const values = new Array<string>(i).fill(same[j]!);
        values.push(v);
        varying[j] = values;
        same[j] = undefined;
      }
      j += 1;
    }
    if (j !== k) return undefined;
  }
  return { names, same, varying };
}

/** A Buffer again: structured cloning turns a Buffer into a plain Uint8Array. */
const asBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);

function rowHeaders(headers: RawHeaders | undefined): RawHeaders | undefined {
  if (!headers) return headers;
  let copy: RawHeaders | undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string' || value === undefined) continue;
    copy ??= { ...headers };
    copy[name] = Array.isArray(value)
      ? value.map((v) => (typeof v === 'string' ? v : asBuffer(v)))
      : asBuffer(value);
  }
  return copy ?? headers;
}

/** The records `packRecords` packed, values as views on the one buffer. */
export function unpackRecords(packed: PackedRecords): PinnedRecord[] {
  const n = packed.lengths.length;
  const records: PinnedRecord[] = new Array(n);
  const { headers } = packed;
  let at = 0;
  for (let i = 0; i < n; i += 1) {
    const length = packed.lengths[i]!;
    const value = length < 0 ? null : Buffer.from(packed.values, at, length);
    if (length > 0) at += length;
    const key = packed.keys[i] ?? null;
    const timestamp = packed.timestamps?.[i];
    let h: RawHeaders | undefined;
    if ('columns' in headers) {
      const { names, same, varying } = headers.columns;
      h = {};
      for (let j = 0; j < names.length; j += 1) h[names[j]!] = same[j] ?? varying[j]![i]!;
    } else h = rowHeaders(headers.rows[i]);
    records[i] = {
      key: key === null || typeof key === 'string' ? key : asBuffer(key),
      value,
      headers: h,
      partition: packed.partitions[i]!,
      ...(timestamp !== undefined ? { timestamp } : {}),
    };
  }
  return records;
}
