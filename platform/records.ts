/**
 * Record shapes the platform hands to components, free of kafkajs types so that no component
 * needs to import the client library.
 */

/** Kafka headers as they come off the wire: bytes or strings, arrays for repeated keys. */
export type RawHeaders = Record<string, Buffer | string | Array<Buffer | string> | undefined>;

/** A record exactly as stored: used for DLQ, replay and redrive, which must keep the bytes. */
export interface RawRecord {
  key: Buffer | string | null;
  value: Buffer | null;
  headers?: RawHeaders;
  /** Pin a partition (replay into the same layout); otherwise the key decides. */
  partition?: number;
  /** Epoch millis as a decimal string, the form Kafka clients use. */
  timestamp?: string;
}

/** Where a record lives. Offsets are decimal strings because they can exceed 2^53. */
export type RecordPosition = {
  topic: string;
  partition: number;
  offset: string;
};

/** What the broker answered for one partition of a send. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  /** Offset of the first record written to this partition by the send. */
  baseOffset: string;
}

/** Reads one header as UTF-8 text (the first value when repeated); undefined when absent. */
export function headerText(headers: RawHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}
