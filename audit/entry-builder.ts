import { hash as digest } from 'node:crypto';
import { canonicalEntryText } from './canonical-shapes.ts';
import type { ActionRecord, AuditEntry } from './entry.ts';
import { sealBody } from './entry-crypto.ts';

/** The keys one batch is sealed with: the current master key and the batch's subject keys. */
export interface BatchKeys {
  keyId: string;
  masterKey: Buffer;
  subjectKeys: Map<string, { id: string; key: Buffer }>;
}

/**
 * Builds the stored entries for `records`, linked after the entry `seq` whose hash is `prevHash`:
 * each body sealed (AAD binds chain, seq, prevHash, key ids, event id), each entry hashed over
 * its RFC 8785 text (the value `entryHash` computes). Synchronous: nothing else can move the
 * head while it runs.
 */
export function buildEntries(
  chainId: string,
  records: ActionRecord[],
  seq: number,
  prevHash: string,
  batchKeys: BatchKeys,
): AuditEntry[] {
  const { keyId, masterKey } = batchKeys;
  const entries: AuditEntry[] = [];
  for (const r of records) {
    seq += 1;
    const subjectKey = r.subjectId === null ? undefined : batchKeys.subjectKeys.get(r.subjectId);
    const subjectKeyId = subjectKey?.id ?? null;
    const sealed = sealBody(
      subjectKey?.key ?? masterKey,
      { argsDigest: r.argsDigest, subjectId: r.subjectId, details: r.details },
      { chain: chainId, seq, prevHash, keyId, subjectKeyId, eventId: r.eventId },
    );
    // The stored field order; `hash` is filled in once the rest is known.
    const entry: AuditEntry = {
      seq,
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
      nonce: sealed.nonce,
      ciphertext: sealed.ciphertext,
      tag: sealed.tag,
      prevHash,
      hash: '',
    };
    entry.hash = digest('sha256', canonicalEntryText(entry), 'hex');
    entries.push(entry);
    prevHash = entry.hash;
  }
  return entries;
}
