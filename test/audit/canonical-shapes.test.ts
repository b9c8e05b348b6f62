import { createDecipheriv, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalAadText, canonicalBodyText, canonicalEntryText } from '../../audit/canonical-shapes.ts';
import { type AuditEntry, canonicalJson, entryHash, type SensitiveBody } from '../../audit/entry.ts';
import { open as openSealed, seal, sealBody } from '../../audit/entry-crypto.ts';
import { chainFiles, makeKeys, tempDir, writeChain } from './support.ts';

// The writer's shape-specific RFC 8785 text must equal canonicalize's (the reference that
// verify uses) for every input, awkward ones included, or stored chains would stop verifying.

const awkward = [
  '',
  'plain',
  'quote " backslash \\ slash /',
  'control \u0000\u0001\u001f\u007f tab\t newline\n',
  'unicode é ü ß 中文 😀 \u2028\u2029',
  'escape-like \\ud800 text',
  '10',
  '9',
  '__proto__',
  'constructor',
  'Z',
  'a',
  'é',
  '😀',
  '\uffff',
];

const body = (details: Record<string, string>, argsDigest: string | null, subjectId: string | null) =>
  ({ argsDigest, subjectId, details }) as SensitiveBody;

function entry(overrides: Partial<AuditEntry> = {}): Omit<AuditEntry, 'hash'> {
  return {
    seq: 42,
    time: '2026-01-01T00:00:00.000Z',
    action: 'crm.contact.upsert',
    actor: 'alice@example.com',
    resource: 'crm/contact/1',
    outcome: 'succeeded',
    component: 'mcp-bridge',
    correlationId: null,
    source: { topic: 'hub.actions', partition: 3, offset: '12345678901234567890' },
    eventId: 'e-1',
    keyId: 'k1',
    subjectKeyId: null,
    nonce: 'bm9uY2U=',
    ciphertext: 'Y2lwaGVy',
    tag: 'dGFn',
    prevHash: 'a'.repeat(64),
    ...overrides,
  };
}

describe('canonical text of the writer shapes', () => {
  it('equals canonicalize for bodies with awkward keys and values (integer-like keys, unicode, escapes)', () => {
    for (const k of awkward) {
      for (const v of awkward) {
        const details = JSON.parse(JSON.stringify({ [k]: v, [`${k}x`]: v, b: k, '1': v, A: 'z' }));
        for (const b of [body(details, v, null), body(details, null, v), body({}, null, null)]) {
          expect(canonicalBodyText(b)).toBe(canonicalJson(b));
        }
      }
    }
  });

  it('equals canonicalize for AADs and entries with awkward strings and numbers', () => {
    for (const s of awkward) {
      const aad = { chain: s, seq: 7, prevHash: 'f'.repeat(64), keyId: s, subjectKeyId: s, eventId: s };
      expect(canonicalAadText(aad)).toBe(canonicalJson(aad));
      for (const e of [
        entry({ action: s, actor: s, correlationId: s, subjectKeyId: s, eventId: s }),
        entry({ seq: 2 ** 53 - 1, source: { topic: s, partition: 0, offset: s } }),
        entry({ seq: 1e21 }),
      ]) {
        expect(canonicalEntryText(e)).toBe(canonicalJson(e));
        expect(canonicalEntryText({ ...e, hash: 'x' } as AuditEntry)).toBe(canonicalJson(e));
      }
    }
  });

  it('falls back to canonicalize outside the shape: extra fields, numbers in details, a lone surrogate', () => {
    const extraSource = entry({ source: { topic: 't', partition: 0, offset: '1', extra: 'x' } as never });
    expect(canonicalEntryText(extraSource)).toBe(canonicalJson(extraSource));
    const extraField = { ...entry(), more: 1 } as Omit<AuditEntry, 'hash'>;
    expect(canonicalEntryText(extraField)).toBe(canonicalJson(extraField));
    const numeric = body({ n: 1 } as never, null, null);
    expect(canonicalBodyText(numeric)).toBe(canonicalJson(numeric));
    // canonicalize refuses a lone surrogate; so does the writer (nothing unverifiable is stored).
    expect(() => canonicalBodyText(body({ a: '\ud800' }, null, null))).toThrow(/surrogate/i);
    expect(() => canonicalEntryText(entry({ actor: 'x\udc00' }))).toThrow(/surrogate/i);
    expect(() =>
      canonicalAadText({
        chain: '0',
        seq: 1,
        prevHash: 'a',
        keyId: 'k',
        subjectKeyId: null,
        eventId: '\ud800',
      }),
    ).toThrow(/surrogate/i);
  });

  it('seals with a fresh nonce each time and opens with a Buffer key as before', () => {
    const key = randomBytes(32);
    const aad = Buffer.from('aad');
    const nonces = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const sealed = seal(key, Buffer.from(`body ${i}`), aad);
      nonces.add(sealed.nonce);
      expect(openSealed(key, sealed, aad).toString()).toBe(`body ${i}`);
    }
    expect(nonces.size).toBe(600);
    const sealed = sealBody(key, body({ a: 'b' }, null, null), {
      chain: '0',
      seq: 1,
      prevHash: 'a'.repeat(64),
      keyId: 'k',
      subjectKeyId: null,
      eventId: 'e',
    });
    expect(() => openSealed(randomBytes(32), sealed, aad)).toThrow();
  });
});

describe('stored entries', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  it('are written as their canonicalize text with the hash added last, hashed and encrypted over canonicalize text', async () => {
    const { keys } = makeKeys();
    await writeChain(dir, keys, 30, { batch: 7, subjectOf: (i) => (i % 3 === 0 ? `subject-${i}` : null) });
    const order = [...Object.keys(entry()).sort(), 'hash'];
    let seen = 0;
    for (const file of await chainFiles(dir)) {
      for (const line of (await readFile(file, 'utf8')).split('\n').filter(Boolean)) {
        const e = JSON.parse(line) as AuditEntry;
        expect(Object.keys(e)).toEqual(order);
        const { hash, ...unhashed } = e;
        expect(line).toBe(`${canonicalJson(unhashed).slice(0, -1)},"hash":${JSON.stringify(hash)}}`);
        expect(entryHash(e)).toBe(e.hash);
        if (e.subjectKeyId !== null) continue;
        // The plaintext is canonicalize's text of the body, under canonicalize's AAD.
        const decipher = createDecipheriv(
          'aes-256-gcm',
          keys.encryptionKeys.get(e.keyId)!,
          Buffer.from(e.nonce, 'base64'),
        );
        decipher.setAAD(
          Buffer.from(
            canonicalJson({
              chain: '0',
              seq: e.seq,
              prevHash: e.prevHash,
              keyId: e.keyId,
              subjectKeyId: e.subjectKeyId,
              eventId: e.eventId,
            }),
          ),
        );
        decipher.setAuthTag(Buffer.from(e.tag, 'base64'));
        const text = Buffer.concat([
          decipher.update(Buffer.from(e.ciphertext, 'base64')),
          decipher.final(),
        ]).toString();
        expect(text).toBe(canonicalJson(JSON.parse(text)));
        seen += 1;
      }
    }
    expect(seen).toBe(20);
  });
});
