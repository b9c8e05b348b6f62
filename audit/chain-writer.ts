import { sign, verify } from 'node:crypto';
import { HubError } from '../core/errors.ts';
import {
  type ActionRecord,
  type AuditEntry,
  type Checkpoint,
  checkpointPayload,
  type SourcePosition,
} from './entry.ts';
import { buildEntries } from './entry-builder.ts';
import { type AuditKeyRing, encryptionKey } from './keys.ts';
import type { AuditStore, ChainAppender } from './store.ts';
import type { SubjectKeyStore } from './subject-keys.ts';

/**
 * Extends one chain: encrypts each action's sensitive body, links it to the previous entry's
 * hash, appends durably, and signs a checkpoint every N entries or every T ms (whichever comes
 * first, only when there is something new) and on close.
 *
 * Appends run in two stages. Preparing (dedup, keys, encrypt, hash) runs one batch at a time,
 * on top of the last prepared batch; writing (one durable write per batch) and checkpoints run
 * one at a time in call order. So a caller with several batches in flight gets batch n+1
 * prepared while batch n's write runs, and still: batches reach the disk in call
 * order, each append resolves only after its own fsync, and head() moves only then. A failed
 * write fails the batches prepared on top of it as well (they link to entries not written);
 * the next append continues from the last durable entry.
 *
 * A checkpoint due after a batch is queued in the write slot once that batch is durable; the batch's
 * append does not wait for it: the caller prepares its next batch meanwhile (the next write
 * waits for the checkpoint, so the order on disk is the same). A checkpoint that fails makes the
 * next append fail with its error. Anchoring a checkpoint (`onCheckpoint`, a Kafka
 * round trip) runs after it in a queue of its own, in checkpoint order; close() waits for it.
 */

export interface ChainWriterOptions {
  appender: ChainAppender;
  keys: AuditKeyRing;
  subjectKeys: SubjectKeyStore;
  /** Sign a checkpoint after this many new entries. */
  checkpointEvery: number;
  /** Sign a checkpoint when this long has passed since the last one and there are new entries. */
  checkpointIntervalMs: number;
  clock?: () => number;
  /** How many recent event ids to remember for dropping re-sent actions. */
  recentEventIds?: number;
  /**
   * Called with each checkpoint once it is durable (e.g. to anchor it in Kafka), one call after
   * another in checkpoint order, outside the write slot; must not throw.
   */
  onCheckpoint?: (checkpoint: Checkpoint) => Promise<void>;
}

export interface ChainWriter {
  readonly chainId: string;
  /** Seq and hash of the last entry, and where in the source it came from. */
  head(): { seq: number; hash: string; lastSource: SourcePosition | null };
  /**
   * Appends the actions (dropping event ids already recorded); resolves once durable. May be
   * called again before it resolves: the next batch is prepared while this one is written.
   */
  append(records: ActionRecord[]): Promise<AuditEntry[]>;
  /** Signs a checkpoint if N entries or T ms have passed with new entries. */
  checkpointIfDue(): Promise<Checkpoint | null>;
  /** Signs a checkpoint now if any entry is not yet covered by one. */
  checkpoint(): Promise<Checkpoint | null>;
  /** Final checkpoint, then closes the appender. Safe to call twice. */
  close(): Promise<void>;
}

/** Builds a writer continuing the chain from the appender's stored state. */
export function createChainWriter(options: ChainWriterOptions): ChainWriter {
  const { appender, keys, subjectKeys } = options;
  const clock = options.clock ?? Date.now;
  const chainId = appender.chainId;
  const signingKey = keys.signingKeys.get(keys.currentSigningKeyId);
  if (!signingKey?.privateKey) {
    throw new HubError(
      'AUDIT_KEYS_INVALID',
      `signing key ${keys.currentSigningKeyId} has no private key; cannot sign checkpoints`,
      {
        hint: 'use the full key file, not a verify-only copy',
      },
    );
  }
  const privateKey = signingKey.privateKey;
  refuseForeignChain(chainId, appender, keys);
  let seq = appender.state.seq;
  let hash = appender.state.hash;
  let lastSource = appender.state.lastSource;
  let checkpointedSeq = appender.state.lastCheckpoint?.seq ?? 0;
  let checkpointedAt = appender.state.lastCheckpoint
    ? Date.parse(appender.state.lastCheckpoint.time)
    : clock();
  const recentCap = Math.max(1, options.recentEventIds ?? 1000);
  const recent = new Set<string>();
  // The remembered ids in insertion order, as a ring: the oldest is evicted by key. Evicting a
  // Set's first key instead (values().next()) walks every deleted slot before it.
  const recentRing: (string | undefined)[] = new Array(recentCap);
  let recentAt = 0;
  let closed = false;
  let closing = false;
  // Stage 1 (prepare) and stage 2 (write, checkpoints): each runs one operation at a time.
  let preparing: Promise<unknown> = Promise.resolve();
  let writing: Promise<unknown> = Promise.resolve();
  // What the next batch is prepared on: the last prepared entry, and the ids of prepared batches
  // not yet durable. `generation` moves on when a write fails, voiding batches prepared before.
  let prepared = { seq, hash };
  const inFlight = new Set<string>();
  // Batches of this generation prepared and not yet written: when the last is written, `inFlight`
  // is emptied at once instead of id by id.
  let unwritten = 0;
  let generation = 0;
  // A checkpoint written after its batch's append resolved that failed: the next append's error.
  let checkpointFailure: unknown;
  // Anchors of written checkpoints, sent one after another.
  let anchoring: Promise<void> = Promise.resolve();

  const inWriteOrder = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = writing.then(fn, fn);
    writing = run.catch(() => {});
    return run;
  };

  // An id of a written batch is never in `recent` (prepare dropped those; in-flight batches hold
  // distinct ids), so only the ids the chain starts with are checked.
  const remember = (eventId: string) => {
    const oldest = recentRing[recentAt];
    if (oldest !== undefined) recent.delete(oldest);
    recentRing[recentAt] = eventId;
    recentAt = (recentAt + 1) % recentCap;
    recent.add(eventId);
  };
  for (const id of appender.state.recentEventIds) if (!recent.has(id)) remember(id);

  const doCheckpoint = async (): Promise<Checkpoint | null> => {
    if (seq === checkpointedSeq) return null;
    const now = clock();
    const unsigned = {
      chain: chainId,
      seq,
      headHash: hash,
      time: new Date(Math.max(now, checkpointedAt)).toISOString(),
      signingKeyId: signingKey.id,
    };
    const cp: Checkpoint = {
      ...unsigned,
      signature: sign(null, checkpointPayload(unsigned), privateKey).toString('base64'),
    };
    await appender.appendCheckpoint(cp);
    checkpointedSeq = seq;
    checkpointedAt = now;
    const anchor = options.onCheckpoint;
    if (anchor) anchoring = anchoring.then(() => anchor(cp)).catch(() => {});
    return cp;
  };

  /** A checkpoint in the write slot after the batch just written, not awaited by its append. */
  const checkpointAfterWrite = () => {
    inWriteOrder(doCheckpoint).catch((err: unknown) => {
      checkpointFailure ??= err;
    });
  };

  interface Batch {
    entries: AuditEntry[];
    /** The entries' stored lines. */
    lines?: Buffer;
    generation: number;
  }

  const prepare = async (records: ActionRecord[]): Promise<Batch> => {
    // One pass: drop ids already in the chain or in flight, and repeats in this batch (first wins).
    // The batch's ids join `inFlight` here (that also finds repeats within the batch) and leave it
    // again if the batch is not built.
    const unique: ActionRecord[] = [];
    const subjects: string[] = [];
    for (const r of records) {
      const id = r.eventId;
      if (recent.has(id) || inFlight.has(id)) continue;
      inFlight.add(id);
      unique.push(r);
      if (r.subjectId !== null) subjects.push(r.subjectId);
    }
    if (unique.length === 0) return { entries: [], generation };
    const before = generation;
    try {
      const subjectDataKeys = subjects.length > 0 ? await subjectKeys.keysFor(subjects) : new Map();
      // A write that failed meanwhile cleared `inFlight`; this batch is built on the durable head.
      if (generation !== before) for (const r of unique) inFlight.add(r.eventId);
      const keyId = keys.currentEncryptionKeyId;
      const batchKeys = { keyId, masterKey: encryptionKey(keys, keyId), subjectKeys: subjectDataKeys };
      // From here on synchronous: the base read here is the one the entries link to.
      const { entries, lines } = buildEntries(chainId, unique, prepared.seq, prepared.hash, batchKeys);
      const last = entries.at(-1);
      if (last) prepared = { seq: last.seq, hash: last.hash };
      unwritten += 1;
      return { entries, lines, generation };
    } catch (err) {
      // The ids are this batch's alone (batches are prepared one at a time).
      for (const r of unique) inFlight.delete(r.eventId);
      throw err;
    }
  };

  const write = async (batch: Batch): Promise<AuditEntry[]> => {
    const { entries } = batch;
    if (entries.length === 0) return entries;
    if (batch.generation !== generation) {
      throw new HubError('AUDIT_APPEND_ABORTED', 'an earlier batch of this chain failed to be written', {
        where: { chain: chainId, seq: entries[0]!.seq },
        hint: 'the batch links to entries that are not on disk; append it again',
      });
    }
    try {
      await appender.append(entries, batch.lines);
    } catch (err) {
      // Everything prepared on top of this batch is void; continue from the durable head.
      generation += 1;
      prepared = { seq, hash };
      inFlight.clear();
      unwritten = 0;
      throw err;
    }
    // Only after the write is durable does the head move on.
    const last = entries.at(-1)!;
    seq = last.seq;
    hash = last.hash;
    lastSource = last.source;
    unwritten -= 1;
    if (unwritten === 0) inFlight.clear();
    else for (const e of entries) inFlight.delete(e.eventId);
    for (const e of entries) remember(e.eventId);
    if (seq - checkpointedSeq >= options.checkpointEvery) checkpointAfterWrite();
    return entries;
  };

  const append = (records: ActionRecord[]): Promise<AuditEntry[]> => {
    if (closing) {
      return Promise.reject(
        new HubError('AUDIT_WRITER_CLOSED', 'chain writer is closed', { where: { chain: chainId } }),
      );
    }
    if (checkpointFailure !== undefined) {
      const cause = checkpointFailure;
      checkpointFailure = undefined;
      return Promise.reject(cause);
    }
    const batch = preparing.then(() => prepare(records));
    preparing = batch.catch(() => {});
    // The write slot is taken now, so batches and checkpoints reach the disk in call order.
    return inWriteOrder(async () => write(await batch));
  };

  return {
    chainId,
    head: () => ({ seq, hash, lastSource }),
    append,
    checkpointIfDue: () =>
      inWriteOrder(async () =>
        !closed &&
        (seq - checkpointedSeq >= options.checkpointEvery ||
          clock() - checkpointedAt >= options.checkpointIntervalMs)
          ? doCheckpoint()
          : null,
      ),
    checkpoint: () => inWriteOrder(async () => (closed ? null : doCheckpoint())),
    close: () => {
      closing = true;
      return inWriteOrder(async () => {
        if (closed) return;
        try {
          await doCheckpoint();
          await anchoring;
        } finally {
          closed = true;
          await appender.close();
        }
      });
    },
  };
}

/**
 * A chain last signed with a key this ring does not have (or that does not verify) means the
 * wrong key file: extending it would mix keys nobody holds together. Refuse before writing.
 */
function refuseForeignChain(chainId: string, appender: ChainAppender, keys: AuditKeyRing): void {
  const cp = appender.state.lastCheckpoint;
  if (!cp) return;
  const signer = keys.signingKeys.get(cp.signingKeyId);
  if (
    !signer ||
    !verify(null, checkpointPayload(cp), signer.publicKey, Buffer.from(cp.signature, 'base64'))
  ) {
    throw new HubError(
      'AUDIT_WRONG_KEY',
      `chain ${chainId} was signed with key ${cp.signingKeyId}, which this key file ${signer ? 'holds under another value' : 'does not have'}`,
      {
        where: { chain: chainId },
        hint: 'use the key file this audit was written with (rotate-key keeps old keys); nothing was written',
      },
    );
  }
}

/** Opens a chain for appending and builds its writer; the chain is released again if that fails. */
export async function openChainWriter(
  store: AuditStore,
  chainId: string,
  options: Omit<ChainWriterOptions, 'appender'>,
): Promise<ChainWriter> {
  const appender = await store.openAppender(chainId);
  try {
    return createChainWriter({ ...options, appender });
  } catch (err) {
    await appender.close();
    throw err;
  }
}
