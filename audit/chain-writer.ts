import { hash as digest, sign, verify } from 'node:crypto';
import { HubError } from '../core/errors.ts';
import { canonicalEntryText } from './canonical-shapes.ts';
import {
  type ActionRecord,
  type AuditEntry,
  type Checkpoint,
  checkpointPayload,
  type SourcePosition,
} from './entry.ts';
import { sealBody } from './entry-crypto.ts';
import { type AuditKeyRing, encryptionKey } from './keys.ts';
import type { AuditStore, ChainAppender } from './store.ts';
import type { SubjectKeyStore } from './subject-keys.ts';

/**
 * Extends one chain: encrypts each action's sensitive body, links it to the previous entry's
 * hash, appends durably, and signs a checkpoint every N entries or every T ms (whichever comes
 * first, only when there is something new) and on close.
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
  /** Called with each checkpoint once it is durable (e.g. to anchor it in Kafka); must not throw. */
  onCheckpoint?: (checkpoint: Checkpoint) => Promise<void>;
}

export interface ChainWriter {
  readonly chainId: string;
  /** Seq and hash of the last entry, and where in the source it came from. */
  head(): { seq: number; hash: string; lastSource: SourcePosition | null };
  /** Appends the actions (dropping event ids already recorded); resolves once durable. */
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
  const recentCap = options.recentEventIds ?? 1000;
  const recent = new Set(appender.state.recentEventIds);
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();

  // One operation at a time: appends and checkpoints must see each other's seq and hash.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  const remember = (eventId: string) => {
    recent.add(eventId);
    if (recent.size > recentCap) recent.delete(recent.values().next().value as string);
  };

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
    await options.onCheckpoint?.(cp);
    return cp;
  };

  const doAppend = async (records: ActionRecord[]): Promise<AuditEntry[]> => {
    if (closed)
      throw new HubError('AUDIT_WRITER_CLOSED', 'chain writer is closed', { where: { chain: chainId } });
    // One pass: drop ids already in the chain and repeats within this batch (first one wins).
    const seen = new Set<string>();
    const unique = records.filter((r) => {
      if (recent.has(r.eventId) || seen.has(r.eventId)) return false;
      seen.add(r.eventId);
      return true;
    });
    if (unique.length === 0) return [];
    const subjects = unique.flatMap((r) => (r.subjectId === null ? [] : [r.subjectId]));
    const subjectDataKeys = subjects.length > 0 ? await subjectKeys.keysFor(subjects) : new Map();
    const keyId = keys.currentEncryptionKeyId;
    const masterKey = encryptionKey(keys, keyId);
    let nextSeq = seq;
    let prevHash = hash;
    const entries: AuditEntry[] = [];
    for (const r of unique) {
      nextSeq += 1;
      const subjectKey = r.subjectId === null ? undefined : subjectDataKeys.get(r.subjectId);
      const subjectKeyId = subjectKey?.id ?? null;
      const sealed = sealBody(
        subjectKey?.key ?? masterKey,
        { argsDigest: r.argsDigest, subjectId: r.subjectId, details: r.details },
        { chain: chainId, seq: nextSeq, prevHash, keyId, subjectKeyId, eventId: r.eventId },
      );
      const unhashed: Omit<AuditEntry, 'hash'> = {
        seq: nextSeq,
        time: new Date(r.time).toISOString(),
        action: r.action,
        actor: r.actor,
        resource: r.resource,
        outcome: r.outcome,
        component: r.component,
        correlationId: r.correlationId,
        source: r.source,
        eventId: r.eventId,
        keyId,
        subjectKeyId,
        ...sealed,
        prevHash,
      };
      // entryHash's value (SHA-256 of the RFC 8785 text), by the one-shot hash.
      const entry: AuditEntry = { ...unhashed, hash: digest('sha256', canonicalEntryText(unhashed), 'hex') };
      entries.push(entry);
      prevHash = entry.hash;
    }
    await appender.append(entries);
    // Only after the write is durable does the in-memory head move on.
    seq = nextSeq;
    hash = prevHash;
    lastSource = entries.at(-1)!.source;
    for (const e of entries) remember(e.eventId);
    if (seq - checkpointedSeq >= options.checkpointEvery) await doCheckpoint();
    return entries;
  };

  return {
    chainId,
    head: () => ({ seq, hash, lastSource }),
    append: (records) => serial(() => doAppend(records)),
    checkpointIfDue: () =>
      serial(async () =>
        !closed &&
        (seq - checkpointedSeq >= options.checkpointEvery ||
          clock() - checkpointedAt >= options.checkpointIntervalMs)
          ? doCheckpoint()
          : null,
      ),
    checkpoint: () => serial(async () => (closed ? null : doCheckpoint())),
    close: () =>
      serial(async () => {
        if (closed) return;
        try {
          await doCheckpoint();
        } finally {
          closed = true;
          await appender.close();
        }
      }),
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
