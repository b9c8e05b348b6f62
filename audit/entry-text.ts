import type { ActionRecord, AuditEntry, SourcePosition } from './entry.ts';

/**
 * The writer's texts of one entry (body, AAD, entry) by string concatenation, for the common
 * case where every string taken from the record is plain: no quote, backslash, control
 * character or surrogate. RFC 8785 and JSON.stringify write such a string as itself in quotes,
 * so one regular expression test over all of an entry's record strings replaces a JSON.stringify
 * per field (or per object). Anything else (a string that needs escaping, a lone surrogate, a
 * non-string where a string belongs, a number in `details`) makes `plainBodyText` return undefined
 * and the writer takes the generic path of canonical-shapes.ts, which equals canonicalize on
 * every input. test/audit/entry-text.test.ts compares these texts with canonicalize.
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

const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const quoted = (v: string | null) => (v === null ? 'null' : `"${v}"`);

/**
 * The RFC 8785 text of `r`'s body when every string of the record (and the entry's subject key
 * id) is plain, else undefined. Once it returned a text, `plainAadText` and `plainEntryText`
 * may write the record's strings as they are.
 */
export function plainBodyText(
  r: ActionRecord,
  source: SourcePosition,
  subjectKeyId: string | null,
): string | undefined {
  const { action, actor, component, correlationId, eventId, outcome, resource, argsDigest, subjectId } = r;
  const { topic, offset, partition } = source;
  if (
    !isStr(action) ||
    !isStr(actor) ||
    !isStr(component) ||
    !isStrOrNull(correlationId) ||
    !isStr(eventId) ||
    !isStr(outcome) ||
    !isStr(resource) ||
    !isStrOrNull(argsDigest) ||
    !isStrOrNull(subjectId) ||
    !isStr(topic) ||
    !isStr(offset) ||
    !Number.isFinite(partition) ||
    !isStrOrNull(subjectKeyId)
  ) {
    return undefined;
  }
  const details = detailsPlainText(r.details);
  if (details === undefined) return undefined;
  // One test over every string of the record (`null` is plain, so no need to tell it apart).
  if (
    NEEDS_CARE.test(
      `${action}${actor}${component}${correlationId}${eventId}${outcome}${resource}${argsDigest}${subjectId}${topic}${offset}${subjectKeyId}`,
    )
  ) {
    return undefined;
  }
  return `{"argsDigest":${quoted(argsDigest)},"details":${details},"subjectId":${quoted(subjectId)}}`;
}

/** The AAD text of an entry whose body `plainBodyText` wrote; `chainJson`, `keyIdJson` from `plainJson`. */
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

/** The entry text (without hash) of an entry whose body `plainBodyText` wrote. */
export function plainEntryText(e: Omit<AuditEntry, 'hash' | 'keyId'>, keyIdJson: string): string {
  const s = e.source;
  return `{"action":"${e.action}","actor":"${e.actor}","ciphertext":"${e.ciphertext}","component":"${e.component}","correlationId":${quoted(e.correlationId)},"eventId":"${e.eventId}","keyId":${keyIdJson},"nonce":"${e.nonce}","outcome":"${e.outcome}","prevHash":"${e.prevHash}","resource":"${e.resource}","seq":${e.seq},"source":{"offset":"${s.offset}","partition":${s.partition},"topic":"${s.topic}"},"subjectKeyId":${quoted(e.subjectKeyId)},"tag":"${e.tag}","time":"${e.time}"}`;
}

/** RFC 8785 text of a body's details when it is a plain object of plain strings, else undefined. */
function detailsPlainText(details: Record<string, string>): string | undefined {
  if (details === null || typeof details !== 'object' || Array.isArray(details)) return undefined;
  const proto = Object.getPrototypeOf(details);
  if (proto !== Object.prototype && proto !== null) return undefined;
  // Sorted by UTF-16 code units, as RFC 8785 orders keys (and canonicalize sorts them).
  const keys = Object.keys(details).sort();
  let text = '{';
  let probe = '';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = details[k];
    if (typeof v !== 'string') return undefined;
    text += i === 0 ? `"${k}":"${v}"` : `,"${k}":"${v}"`;
    probe += k + v;
  }
  return NEEDS_CARE.test(probe) ? undefined : `${text}}`;
}
