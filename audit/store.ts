import type { AuditEntry, Checkpoint, SourcePosition } from './entry.ts';

/**
 * Where audit chains live. The segment-file store is the default; the interface is what a
 * database-backed store implements later. A store holds one chain per partition of the action
 * topic; every chain is append-only.
 */

/** A stored line as read back: the parsed JSON (not yet validated) and where it is. */
export interface StoredRecord {
  value: unknown;
  file: string;
  line: number;
}

/** What a chain's writer needs to continue it after a restart. */
export interface ChainState {
  /** Seq of the last entry (0 for an empty chain). */
  seq: number;
  /** Hash of the last entry (the genesis hash for an empty chain). */
  hash: string;
  /** Source position of the last entry: the consumer resumes right after it. */
  lastSource: SourcePosition | null;
  lastCheckpoint: Checkpoint | null;
  /** Event ids of the most recent entries, to drop a re-sent action. */
  recentEventIds: string[];
  /** Set when a torn last line (a crash during a write) was cut off when opening. */
  repaired?: TornTailRepair[];
}

/** Record of bytes cut from a torn tail: nothing is dropped silently. */
export interface TornTailRepair {
  file: string;
  line: number;
  bytes: number;
  savedTo: string;
}

/** One chain opened for appending; a store allows one appender per chain. */
export interface ChainAppender {
  readonly chainId: string;
  readonly state: ChainState;
  /**
   * Appends entries in order; resolves once they are durable (synced to disk). `lines`, when given, are
   * the entries' stored lines as the chain writer built them (each entry's RFC 8785 text with
   * its hash added, UTF-8, one per line); a store may write them instead of serialising again.
   */
  append(entries: AuditEntry[], lines?: Buffer): Promise<void>;
  /** Appends a signed checkpoint; resolves once durable. */
  appendCheckpoint(checkpoint: Checkpoint): Promise<void>;
  close(): Promise<void>;
}

export interface AuditStore {
  /** A human-readable location for messages (a directory, a URL). */
  readonly location: string;
  /** Ids of the chains present, sorted. */
  chainIds(): Promise<string[]>;
  /** Opens (creating if absent) a chain for appending; cuts a torn tail with a record, refuses on corruption. */
  openAppender(chainId: string): Promise<ChainAppender>;
  /** Entries of a chain in stored order; throws AUDIT_SEGMENT_CORRUPT / AUDIT_SEGMENT_TORN naming file and line. */
  readEntries(chainId: string): AsyncIterable<StoredRecord>;
  /** Checkpoints of a chain in stored order; same errors as readEntries. */
  readCheckpoints(chainId: string): AsyncIterable<StoredRecord>;
  /** Last recorded source position per source partition (`<topic>:<partition>`), from each chain's last entry. */
  lastSourceOffsets(): Promise<Map<string, SourcePosition>>;
  /** Who is appending to the chain right now (a description), or null when nobody is. */
  activeWriter(chainId: string): Promise<string | null>;
}

/** The chain id used for a partition of the action topic. */
export function chainIdForPartition(partition: number): string {
  return String(partition);
}
