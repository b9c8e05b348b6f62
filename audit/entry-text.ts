import type { ActionRecord, AuditEntry, SourcePosition } from './entry.ts';

/**
 * The writer's texts of one entry (body, AAD, entry) by string concatenation, for the common
 * case where every string taken from the record is plain: no quote, backslash, control
 * character or surrogate. RFC 8785 and JSON.stringify write such a string as itself in quotes,
 * so a regular expression test per string (skipped for a string already found plain in the
 * same field of the batch) replaces a JSON.stringify per field or object. Anything else (a
 * string that needs escaping, a lone surrogate, a non-string where a string belongs, a number
 * in `details`) makes `PlainBodies.text` return undefined and the writer takes the generic path
 * of canonical-shapes.ts, which equals canonicalize on every input. test/audit/stored-lines.test.ts
 * compares the stored texts with canonicalize.
 *
 * Fields the writer makes itself are written as they are: base64 (nonce, ciphertext, tag), hex
 * (prevHash), an ISO time, an integer seq. The chain id and key id come from the batch and are
 * checked once per batch (`plainJson`).
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes
const NEEDS_CARE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `"s"` when `s` is a plain string (see above), else undefined. */
export function plainJson(s: unknown): string | undefined {
  return typeof s === 'string' && !NEEDS_CARE.test(s) ? `"${s}"` : undefined;
}

const quoted = (v: string | null) => (v === null ? 'null' : `"${v}"`);

/**
 * Writes the RFC 8785 text of records' bodies when every string of the record (and the entry's
 * subject key id) is plain, else returns undefined. Once it returned a text, `plainAadText` and
 * `plainEntryText` may write that record's strings as they are. Records of one batch repeat
 * most strings (action, actor, component, topic, the details' keys): a string equal to the one
 * last found plain in the same field is not tested again, and the details' sorted keys are
 * reused while the next details object has the same keys.
 */
export class PlainBodies {
  /** The last plain string seen per field (record fields, then details values by sorted key). */
  private readonly last: (string | undefined)[] = [];
  private readonly lastValues: (string | undefined)[] = [];
  private keys: string[] = [];
  private sortedKeys: string[] = [];
  /** Per sorted key, its text up to the value's opening quote. */
  private keyTexts: string[] = [];

  /** True when `s` is null or a plain string; remembers it for field `i`. */
  private ok(i: number, s: string | null): boolean {
    if (s === null || this.last[i] === s) return true;
    if (typeof s !== 'string' || NEEDS_CARE.test(s)) return false;
    this.last[i] = s;
    return true;
  }

  text(r: ActionRecord, source: SourcePosition, subjectKeyId: string | null): string | undefined {
    const { argsDigest, subjectId } = r;
    if (
      !this.ok(0, r.action) ||
      !this.ok(1, r.actor) ||
      !this.ok(2, r.component) ||
      !this.ok(3, r.correlationId) ||
      !this.ok(4, r.eventId) ||
      !this.ok(5, r.outcome) ||
      !this.ok(6, r.resource) ||
      !this.ok(7, argsDigest) ||
      !this.ok(8, subjectId) ||
      !this.ok(9, source.topic) ||
      !this.ok(10, source.offset) ||
      !this.ok(11, subjectKeyId) ||
      // Strings where the entry requires one (null passed `ok`).
      r.action === null ||
      r.actor === null ||
      r.component === null ||
      r.eventId === null ||
      r.outcome === null ||
      r.resource === null ||
      source.topic === null ||
      source.offset === null ||
      !Number.isFinite(source.partition)
    ) {
      return undefined;
    }
    const details = this.detailsText(r.details);
    if (details === undefined) return undefined;
    return `{"argsDigest":${quoted(argsDigest)},"details":${details},"subjectId":${quoted(subjectId)}}`;
  }

  /** RFC 8785 text of a body's details when it is a plain object of plain strings, else undefined. */
  private detailsText(details: Record<string, string>): string | undefined {
    if (details === null || typeof details !== 'object' || Array.isArray(details)) return undefined;
    const proto = Object.getPrototypeOf(details);
    if (proto !== Object.prototype && proto !== null) return undefined;
    if (!this.sameKeys(details)) {
      const keys = Object.keys(details);
      // Sorted by UTF-16 code units, as RFC 8785 orders keys (and canonicalize sorts them).
      const sorted = [...keys].sort();
      for (const k of sorted) if (NEEDS_CARE.test(k)) return undefined;
      this.keys = keys;
      this.sortedKeys = sorted;
      this.keyTexts = sorted.map((k, i) => `${i === 0 ? '{' : ','}"${k}":"`);
      this.lastValues.length = 0;
    }
    const sorted = this.sortedKeys;
    const keyTexts = this.keyTexts;
    if (sorted.length === 0) return '{}';
    let text = '';
    for (let i = 0; i < sorted.length; i++) {
      const v = details[sorted[i]!];
      if (v !== this.lastValues[i]) {
        if (typeof v !== 'string' || NEEDS_CARE.test(v)) return undefined;
        this.lastValues[i] = v;
      }
      text += `${keyTexts[i]}${v}"`;
    }
    return `${text}}`;
  }

  /** True when `details` has exactly the own keys of the last details, in the same order. */
  private sameKeys(details: Record<string, string>): boolean {
    const keys = this.keys;
    let n = 0;
    // for-in also walks inherited enumerable keys: any such key is a mismatch (then Object.keys decides).
    for (const k in details) {
      if (k !== keys[n]) return false;
      n += 1;
    }
    return n === keys.length;
  }
}

/** The AAD text of an entry whose body `PlainBodies.text` wrote; `chainJson`, `keyIdJson` from `plainJson`. */
export function plainAadText(
  chainJson: string,
  seq: number,
  prevHash: string,
  keyIdJson: string,
  subjectKeyId: string | null,
  eventId: string,
): string {
  return `{"chain":${chainJson},"eventId":"${eventId}","keyId":${keyIdJson},"prevHash":"${prevHash}","seq":${seq},"subjectKeyId":${quoted(subjectKeyId)}}`;
}

/** The entry text (without hash) of an entry whose body `PlainBodies.text` wrote. */
export function plainEntryText(e: Omit<AuditEntry, 'hash' | 'keyId'>, keyIdJson: string): string {
  const s = e.source;
  return `{"action":"${e.action}","actor":"${e.actor}","ciphertext":"${e.ciphertext}","component":"${e.component}","correlationId":${quoted(e.correlationId)},"eventId":"${e.eventId}","keyId":${keyIdJson},"nonce":"${e.nonce}","outcome":"${e.outcome}","prevHash":"${e.prevHash}","resource":"${e.resource}","seq":${e.seq},"source":{"offset":"${s.offset}","partition":${s.partition},"topic":"${s.topic}"},"subjectKeyId":${quoted(e.subjectKeyId)},"tag":"${e.tag}","time":"${e.time}"}`;
}
