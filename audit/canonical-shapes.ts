import { type AuditEntry, canonicalJson, type SensitiveBody } from './entry.ts';
import type { EntryAad } from './entry-crypto.ts';

/**
 * RFC 8785 text of the three shapes a chain writer canonicalises per entry (the encrypted body,
 * the AAD and the entry for its hash), without the generic walker of `canonicalize`.
 *
 * RFC 8785 serialises strings and numbers exactly as ECMAScript's JSON.stringify does (§3.2.2)
 * and orders object keys by their UTF-16 code units (§3.2.3). For a shape whose key order is
 * fixed, that is JSON.stringify of an object literal written in sorted order; keys chosen by a
 * producer (a body's `details`) are sorted with the same comparator canonicalize uses and
 * written one by one (an object would move integer-like keys first). Anything outside the
 * shape (a lone surrogate, which canonicalize refuses; a number in `details`; an extra source
 * field) goes to `canonicalJson`, so the result, or the error, is always canonicalize's.
 * test/audit/canonical-shapes.test.ts compares both on awkward inputs.
 */

const str = (v: unknown): v is string => typeof v === 'string' && v.isWellFormed();
const strOrNull = (v: unknown): v is string | null => v === null || str(v);

function detailsText(details: Record<string, string>): string | undefined {
  if (details === null || typeof details !== 'object' || Array.isArray(details)) return undefined;
  const proto = Object.getPrototypeOf(details);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const keys = Object.keys(details).sort();
  let text = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = details[k];
    if (!str(k) || !str(v)) return undefined;
    text += `${i === 0 ? '' : ','}${JSON.stringify(k)}:${JSON.stringify(v)}`;
  }
  return `${text}}`;
}

/** Canonical JSON of an entry's sensitive body (the plaintext that gets encrypted). */
export function canonicalBodyText(body: SensitiveBody): string {
  const details = detailsText(body.details);
  if (details === undefined || !strOrNull(body.argsDigest) || !strOrNull(body.subjectId)) {
    return canonicalJson(body);
  }
  return `{"argsDigest":${JSON.stringify(body.argsDigest)},"details":${details},"subjectId":${JSON.stringify(body.subjectId)}}`;
}

/** Canonical JSON of the fields bound into an entry's tag. */
export function canonicalAadText(aad: EntryAad): string {
  const { chain, eventId, keyId, prevHash, seq, subjectKeyId } = aad;
  if (!str(chain) || !str(eventId) || !str(keyId) || !str(prevHash) || !strOrNull(subjectKeyId)) {
    return canonicalJson({ chain, eventId, keyId, prevHash, seq, subjectKeyId });
  }
  if (!Number.isFinite(seq)) return canonicalJson({ chain, eventId, keyId, prevHash, seq, subjectKeyId });
  return JSON.stringify({ chain, eventId, keyId, prevHash, seq, subjectKeyId });
}

/** Own fields of an entry other than `hash`. */
function fieldCount(e: object): number {
  const n = Object.keys(e).length;
  return Object.hasOwn(e, 'hash') ? n - 1 : n;
}

/** Canonical JSON of a stored entry without its hash: what `entryHash` hashes. */
export function canonicalEntryText(e: Omit<AuditEntry, 'hash'>): string {
  const s = e.source;
  if (
    !(
      str(e.action) &&
      str(e.actor) &&
      str(e.ciphertext) &&
      str(e.component) &&
      strOrNull(e.correlationId) &&
      str(e.eventId) &&
      str(e.keyId) &&
      str(e.nonce) &&
      str(e.outcome) &&
      str(e.prevHash) &&
      str(e.resource) &&
      Number.isFinite(e.seq) &&
      s !== null &&
      typeof s === 'object' &&
      Object.keys(s).length === 3 &&
      str(s.offset) &&
      Number.isFinite(s.partition) &&
      str(s.topic) &&
      strOrNull(e.subjectKeyId) &&
      str(e.tag) &&
      str(e.time) &&
      fieldCount(e) === 16
    )
  ) {
    const { hash: _ignored, ...rest } = e as AuditEntry;
    return canonicalJson(rest);
  }
  return JSON.stringify({
    action: e.action,
    actor: e.actor,
    ciphertext: e.ciphertext,
    component: e.component,
    correlationId: e.correlationId,
    eventId: e.eventId,
    keyId: e.keyId,
    nonce: e.nonce,
    outcome: e.outcome,
    prevHash: e.prevHash,
    resource: e.resource,
    seq: e.seq,
    source: { offset: s.offset, partition: s.partition, topic: s.topic },
    subjectKeyId: e.subjectKeyId,
    tag: e.tag,
    time: e.time,
  });
}
