import type { Mapping } from './mapping.ts';

/** Where a stream stopped: the last record published, by (modification stamp, key). */
export interface SourceCursor {
  /** The system's modification stamp of the last published record, as the system writes it. */
  stamp: string;
  /** Key of the last published record; breaks ties between records with the same stamp. */
  key: string;
  /** Protocol-specific extra, e.g. how many records at `stamp` were already read (SCIM). */
  skip?: number;
}

/** One changed record as the system returned it. */
export interface SourceRecord {
  key: string;
  stamp: string;
  raw: unknown;
}

/** A page of changes in (stamp, key) order, and the cursor to resume after it. */
export interface SourcePage {
  records: SourceRecord[];
  cursor: SourceCursor;
}

/** One entity a source connector follows: how to read its changes and what to publish. */
export interface SourceStream {
  /** Entity name, e.g. `sales-order`; part of the offset key and the event id. */
  name: string;
  topic: string;
  /** Avro full name of the event, e.g. `tributary.erp.SalesOrderChanged`. */
  eventType: string;
  mapping: Mapping;
  /** Reads the changes after `cursor` (all records when undefined), page by page, oldest first. */
  read(cursor: SourceCursor | undefined, signal: AbortSignal): AsyncIterable<SourcePage>;
}

/** Compares two (stamp, key) positions: stamps as instants when both parse, keys as text. */
export function comparePosition(
  a: { stamp: string; key: string },
  b: { stamp: string; key: string },
): number {
  const ta = Date.parse(a.stamp);
  const tb = Date.parse(b.stamp);
  const byStamp =
    !Number.isNaN(ta) && !Number.isNaN(tb) ? ta - tb : a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : 0;
  if (byStamp !== 0) return byStamp;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
