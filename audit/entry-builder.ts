import { hash as digest } from 'node:crypto';
import { canonicalAadText, canonicalBodyText, canonicalEntryText } from './canonical-shapes.ts';
import type { ActionRecord, AuditEntry } from './entry.ts';
import { seal } from './entry-crypto.ts';
import { PlainBodies, plainAadText, plainEntryText, plainJson } from './entry-text.ts';

/** The keys one batch is sealed with: the current master key and the batch's subject keys. */
export interface BatchKeys {
  keyId: string;
  masterKey: Buffer;
  subjectKeys: Map<string, { id: string; key: Buffer }>;
}

/** A batch of entries and their stored lines (UTF-8, each ending in a newline). */
export interface BuiltBatch {
  entries: AuditEntry[];
  lines: Buffer;
}

/**
 * Builds the stored entries for `records`, linked after the entry `seq` whose hash is `prevHash`:
 * each body sealed (AAD binds chain, seq, prevHash, key ids, event id), each entry hashed over
 * its RFC 8785 text (the value `entryHash` computes). Synchronous: nothing else can move the
 * head while it runs.
 *
 * Each entry's RFC 8785 text is written once, as UTF-8, into the batch's line buffer; the hash
 * is taken over those bytes, then the closing brace is replaced by `,"hash":"<hash>"}` and a
 * newline. So a stored line is the entry's canonical text with `hash` added last: one JSON
 * object with the same fields and values as the entry (verify parses it and recomputes the
 * canonical text, so the key order of a line does not matter to it).
 */
export function buildEntries(
  chainId: string,
  records: ActionRecord[],
  seq: number,
  prevHash: string,
  batchKeys: BatchKeys,
): BuiltBatch {
  const { keyId, masterKey } = batchKeys;
  const chainJson = plainJson(chainId);
  const keyIdJson = plainJson(keyId);
  const entries: AuditEntry[] = [];
  const out = new LineBuffer(records.length * 1024);
  const plain = new PlainBodies();
  let lastTimeMs = Number.NaN;
  let lastTime = '';
  for (const r of records) {
    seq += 1;
    const subjectKey = r.subjectId === null ? undefined : batchKeys.subjectKeys.get(r.subjectId);
    const subjectKeyId = subjectKey?.id ?? null;
    const key = subjectKey?.key ?? masterKey;
    if (r.time !== lastTimeMs) {
      lastTime = new Date(r.time).toISOString();
      lastTimeMs = r.time;
    }
    const time = lastTime;
    // A fresh source object: the entry holds exactly the three fields verify reads back.
    const s = r.source;
    const source = { topic: s.topic, partition: s.partition, offset: s.offset };
    const bodyText =
      chainJson === undefined || keyIdJson === undefined ? undefined : plain.text(r, source, subjectKeyId);
    // The AAD's bytes go where this entry's line will be written (the cipher reads them at once).
    const sealed =
      bodyText !== undefined
        ? seal(
            key,
            bodyText,
            out.scratch(plainAadText(chainJson!, seq, prevHash, keyIdJson!, subjectKeyId, r.eventId)),
          )
        : seal(
            key,
            canonicalBodyText({ argsDigest: r.argsDigest, subjectId: r.subjectId, details: r.details }),
            out.scratch(
              canonicalAadText({ chain: chainId, seq, prevHash, keyId, subjectKeyId, eventId: r.eventId }),
            ),
          );
    // The entry object's field order (the order lines had before they were written canonically).
    const entry: AuditEntry = {
      seq,
      time,
      action: r.action,
      actor: r.actor,
      resource: r.resource,
      outcome: r.outcome,
      component: r.component,
      correlationId: r.correlationId,
      source,
      eventId: r.eventId,
      keyId,
      subjectKeyId,
      nonce: sealed.nonce,
      ciphertext: sealed.ciphertext,
      tag: sealed.tag,
      prevHash,
      hash: '',
    };
    const start = out.at;
    out.write(bodyText !== undefined ? plainEntryText(entry, keyIdJson!) : canonicalEntryText(entry));
    entry.hash = digest('sha256', out.buf.subarray(start, out.at), 'hex');
    out.at -= 1; // the closing brace
    out.write(`,"hash":"${entry.hash}"}\n`);
    entries.push(entry);
    prevHash = entry.hash;
  }
  return { entries, lines: out.buf.subarray(0, out.at) };
}

/** A growing buffer of UTF-8 text. */
class LineBuffer {
  buf: Buffer;
  at = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(size, 1024));
  }
  write(text: string): void {
    this.reserve(text.length);
    this.at += this.buf.write(text, this.at);
  }
  /** `text` as UTF-8 in the free space after `at` (overwritten by the next write): a view, no copy. */
  scratch(text: string): Buffer {
    this.reserve(text.length);
    return this.buf.subarray(this.at, this.at + this.buf.write(text, this.at));
  }
  private reserve(units: number): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    const need = this.at + units * 3;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.at);
      this.buf = bigger;
    }
  }
}
