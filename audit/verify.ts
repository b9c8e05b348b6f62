import { verify } from 'node:crypto';
import { HubError } from '../core/errors.ts';
import { decryptEntry } from './decrypt.ts';
import {
  auditEntrySchema,
  type Checkpoint,
  checkpointPayload,
  checkpointSchema,
  entryHash,
  genesisHash,
} from './entry.ts';
import type { AuditKeyRing } from './keys.ts';
import type { AuditStore, StoredRecord } from './store.ts';
import type { SubjectKeyStore } from './subject-keys.ts';

/**
 * Verifies audit chains: each entry's hash, the link to the previous hash, the sequence, every
 * checkpoint's Ed25519 signature, chain id and order, that each checkpoint matches the entry
 * hash at its seq, and that no checkpoint lies beyond the last entry (a cut tail). With
 * `decrypt` it also authenticates every body. Stops at the first problem and says where.
 */

export type VerifyReason =
  | 'corrupt-segment'
  | 'torn-tail'
  | 'malformed'
  | 'seq-gap'
  | 'duplicate'
  | 'out-of-order'
  | 'prev-hash-mismatch'
  | 'hash-mismatch'
  | 'unknown-key'
  | 'decrypt-failed'
  | 'unknown-signing-key'
  | 'bad-signature'
  | 'checkpoint-chain'
  | 'checkpoint-replayed'
  | 'checkpoint-mismatch'
  | 'truncated-tail';

export interface VerifyProblem {
  chain: string;
  /** The entry's seq (for a checkpoint problem: the checkpoint's seq). */
  seq: number | null;
  file: string;
  line: number;
  reason: VerifyReason;
  message: string;
}

export interface ChainReport {
  chain: string;
  entries: number;
  checkpoints: number;
  headHash: string;
  lastCheckpointSeq: number;
  /** Entries after the last checkpoint (normal while a writer runs or after a crash). */
  unsealed: number;
  decrypted: number;
  forgotten: number;
  /** A writer was appending while verify read, and its last batch was not complete yet. */
  inProgress: boolean;
}

export type VerifyResult =
  | { ok: true; chains: ChainReport[] }
  | { ok: false; chains: ChainReport[]; problem: VerifyProblem };

export interface VerifyOptions {
  decrypt?: boolean;
  subjectKeys?: SubjectKeyStore;
  /** Checkpoints anchored outside the folder (Kafka), by chain: catch a tail cut with its checkpoints. */
  anchors?: Map<string, Checkpoint>;
  /** Names the anchors' origin in problems, e.g. the anchor topic. */
  anchorOrigin?: string;
}

class Problem extends Error {
  readonly problem: VerifyProblem;
  constructor(problem: VerifyProblem) {
    super(problem.message);
    this.problem = problem;
  }
}

/** Verifies every chain of the store; ok, or the first bad entry and why. */
export async function verifyChain(
  store: AuditStore,
  keys: AuditKeyRing,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const chains: ChainReport[] = [];
  const present = await store.chainIds();
  for (const [chain, anchor] of options.anchors ?? []) {
    if (!present.includes(chain)) {
      const problem: VerifyProblem = {
        chain,
        seq: 1,
        file: options.anchorOrigin ?? 'anchor',
        line: 0,
        reason: 'truncated-tail',
        message: `an anchored checkpoint says chain ${chain} has ${anchor.seq} entries, but the chain is missing`,
      };
      return { ok: false, chains, problem };
    }
  }
  for (const chain of present) {
    try {
      chains.push(await verifyOne(store, chain, keys, options));
    } catch (err) {
      if (err instanceof Problem) return { ok: false, chains, problem: err.problem };
      throw err;
    }
  }
  return { ok: true, chains };
}

/** Turns a store read error (corrupt or torn line) into a located problem. */
async function* located(
  chain: string,
  records: AsyncIterable<StoredRecord>,
  writing?: () => Promise<boolean>,
): AsyncIterable<StoredRecord> {
  try {
    yield* records;
  } catch (err) {
    // A running writer's last batch may be half on disk while we read: that is not damage.
    if (err instanceof HubError && err.code === 'AUDIT_SEGMENT_TORN' && writing && (await writing())) return;
    if (
      err instanceof HubError &&
      (err.code === 'AUDIT_SEGMENT_CORRUPT' || err.code === 'AUDIT_SEGMENT_TORN')
    ) {
      const reason = err.code === 'AUDIT_SEGMENT_TORN' ? 'torn-tail' : 'corrupt-segment';
      throw new Problem({
        chain,
        seq: null,
        file: String(err.where.file),
        line: Number(err.where.line),
        reason,
        message: err.message,
      });
    }
    throw err;
  }
}

async function verifyOne(
  store: AuditStore,
  chain: string,
  keys: AuditKeyRing,
  options: VerifyOptions,
): Promise<ChainReport> {
  const fail = (reason: VerifyReason, seq: number | null, at: StoredRecord, message: string): never => {
    throw new Problem({ chain, seq, file: at.file, line: at.line, reason, message });
  };

  // Checkpoints first: they are few, and each must be genuine and move forward.
  const checkpoints = new Map<number, { cp: Checkpoint; at: StoredRecord }>();
  let last: { cp: Checkpoint; at: StoredRecord } | undefined;
  for await (const at of located(chain, store.readCheckpoints(chain))) {
    const parsed = checkpointSchema.safeParse(at.value);
    if (!parsed.success)
      return fail('malformed', null, at, `checkpoint is malformed: ${parsed.error.issues[0]?.message}`);
    const cp = parsed.data;
    if (cp.chain !== chain)
      fail('checkpoint-chain', cp.seq, at, `checkpoint belongs to chain ${cp.chain}, not ${chain}`);
    const signer = keys.signingKeys.get(cp.signingKeyId);
    if (!signer)
      fail('unknown-signing-key', cp.seq, at, `checkpoint is signed by unknown key ${cp.signingKeyId}`);
    if (!verify(null, checkpointPayload(cp), signer!.publicKey, Buffer.from(cp.signature, 'base64'))) {
      fail('bad-signature', cp.seq, at, `checkpoint signature does not verify with key ${cp.signingKeyId}`);
    }
    if (last && (cp.seq <= last.cp.seq || cp.time < last.cp.time)) {
      fail(
        'checkpoint-replayed',
        cp.seq,
        at,
        `checkpoint (seq ${cp.seq}, ${cp.time}) goes back from the one before it (seq ${last.cp.seq}, ${last.cp.time}): an old checkpoint replayed`,
      );
    }
    checkpoints.set(cp.seq, { cp, at });
    last = { cp, at };
  }
  const anchor = options.anchors?.get(chain);
  if (anchor) {
    // The copy kept outside the folder must be genuine too, and agree with the local one.
    const at: StoredRecord = { value: anchor, file: options.anchorOrigin ?? 'anchor', line: 0 };
    const signer = keys.signingKeys.get(anchor.signingKeyId);
    if (!signer)
      fail(
        'unknown-signing-key',
        anchor.seq,
        at,
        `anchored checkpoint is signed by unknown key ${anchor.signingKeyId}`,
      );
    if (
      !verify(null, checkpointPayload(anchor), signer!.publicKey, Buffer.from(anchor.signature, 'base64'))
    ) {
      fail(
        'bad-signature',
        anchor.seq,
        at,
        `anchored checkpoint signature does not verify with key ${anchor.signingKeyId}`,
      );
    }
    const local = checkpoints.get(anchor.seq);
    if (local && local.cp.headHash !== anchor.headHash) {
      fail(
        'checkpoint-mismatch',
        anchor.seq,
        local.at,
        `local checkpoint at seq ${anchor.seq} differs from the anchored one`,
      );
    }
    if (!local) checkpoints.set(anchor.seq, { cp: anchor, at });
    if (!last || anchor.seq > last.cp.seq) last = { cp: anchor, at };
  }

  let expected = 1;
  let prevHash = genesisHash(chain);
  let decrypted = 0;
  let forgotten = 0;
  let inProgress = false;
  const writing = async () => {
    inProgress = (await store.activeWriter(chain)) !== null;
    return inProgress;
  };
  for await (const at of located(chain, store.readEntries(chain), writing)) {
    const parsed = auditEntrySchema.safeParse(at.value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return fail(
        'malformed',
        expected,
        at,
        `entry is malformed at ${issue?.path.join('.')}: ${issue?.message}`,
      );
    }
    const entry = parsed.data;
    if (entry.seq === expected - 1) fail('duplicate', entry.seq, at, `seq ${entry.seq} appears twice`);
    if (entry.seq < expected)
      fail('out-of-order', entry.seq, at, `seq ${entry.seq} comes after seq ${expected - 1}`);
    if (entry.seq > expected) {
      fail(
        'seq-gap',
        entry.seq,
        at,
        `expected seq ${expected}, found ${entry.seq}: an entry is missing or entries were moved`,
      );
    }
    if (entryHash(entry) !== entry.hash)
      fail('hash-mismatch', entry.seq, at, 'entry content does not match its hash (edited)');
    if (entry.prevHash !== prevHash) {
      fail(
        'prev-hash-mismatch',
        entry.seq,
        at,
        'entry does not link to the hash of the entry before it (chain rewritten)',
      );
    }
    const cp = checkpoints.get(entry.seq);
    if (cp && cp.cp.headHash !== entry.hash) {
      fail(
        'checkpoint-mismatch',
        entry.seq,
        at,
        `signed checkpoint at ${cp.at.file}:${cp.at.line} records another hash for seq ${entry.seq}: entries rewritten after signing, or a checkpoint of another chain state`,
      );
    }
    if (options.decrypt) {
      try {
        const body = decryptEntry(chain, entry, keys, options.subjectKeys);
        if ('forgottenAt' in body) forgotten++;
        else decrypted++;
      } catch (err) {
        const reason =
          err instanceof HubError && err.code === 'AUDIT_KEY_UNKNOWN' ? 'unknown-key' : 'decrypt-failed';
        fail(reason, entry.seq, at, (err as Error).message);
      }
    }
    prevHash = entry.hash;
    expected = entry.seq + 1;
  }

  const entries = expected - 1;
  if (last && last.cp.seq > entries) {
    fail(
      'truncated-tail',
      entries + 1,
      last.at,
      `signed checkpoint says the chain has ${last.cp.seq} entries but only ${entries} are stored: the tail was cut`,
    );
  }
  return {
    chain,
    entries,
    checkpoints: checkpoints.size,
    headHash: prevHash,
    lastCheckpointSeq: last?.cp.seq ?? 0,
    unsealed: entries - (last?.cp.seq ?? 0),
    decrypted,
    forgotten,
    inProgress,
  };
}
