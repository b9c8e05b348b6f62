import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChainWriter, openChainWriter } from '../../audit/chain-writer.ts';
import { decryptEntry } from '../../audit/decrypt.ts';
import { type AuditEntry, canonicalJson, entryHash } from '../../audit/entry.ts';
import { buildEntries } from '../../audit/entry-builder.ts';
import { openBody } from '../../audit/entry-crypto.ts';
import { PlainBodies } from '../../audit/entry-text.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { readAuditEntries } from '../../audit/show.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { verifyChain } from '../../audit/verify.ts';
import { action, chainFiles, makeKeys, tempDir } from './support.ts';

// A chain writer stores each entry as its RFC 8785 text with the hash added (one UTF-8 encoding,
// hashed in place). Lines written before (JSON.stringify of the entry, other key order) must
// still verify and read, and a line must parse to the entry the writer returned.

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

const awkward = [
  'quote " backslash \\',
  'control \u0000\u001f tab\t newline\n',
  'unicode é 中文 😀 \u2028',
  '10',
  '',
];

const plainJsonOf = (e: AuditEntry) => JSON.parse(JSON.stringify(e)) as unknown;

describe('stored lines', () => {
  it('each line parses to the entry the writer returned, for plain and awkward strings alike', () => {
    const records = [action(0), action(1, { subjectId: 's-1', correlationId: 'c-1', argsDigest: 'd' })];
    for (const s of awkward) {
      records.push(action(records.length, { actor: s, resource: s, correlationId: s, subjectId: s }));
      records.push(action(records.length, { details: { [s]: s, z: s }, argsDigest: s }));
      // Same keys as the plain records before, an awkward value (plain strings are remembered per field).
      records.push(action(records.length, { details: { count: s, note: 'n' } }));
      records.push(action(records.length));
      records.push(action(records.length, { source: { topic: s, partition: 2, offset: s } }));
    }
    const subjectKey = { id: 'sk-x', key: randomBytes(32) };
    const subjectKeys = new Map(records.flatMap((r) => (r.subjectId ? [[r.subjectId, subjectKey]] : [])));
    const masterKey = randomBytes(32);
    for (const [chain, keyId] of [
      ['0', 'k1'],
      ['chain "quoted"', 'key\\1'],
    ] as const) {
      const { entries, lines } = buildEntries(chain, records, 4, 'a'.repeat(64), {
        keyId,
        masterKey,
        subjectKeys,
      });
      const text = lines.toString('utf8');
      expect(text.endsWith('\n')).toBe(true);
      const parsed = text.slice(0, -1).split('\n');
      expect(parsed).toHaveLength(records.length);
      let prev = 'a'.repeat(64);
      entries.forEach((e, i) => {
        expect(JSON.parse(parsed[i]!)).toEqual(plainJsonOf(e));
        expect(e.hash).toBe(entryHash(e));
        expect(e.prevHash).toBe(prev);
        prev = e.hash;
        const r = records[i]!;
        const body = openBody(e.subjectKeyId ? subjectKey.key : masterKey, e, {
          chain,
          seq: e.seq,
          prevHash: e.prevHash,
          keyId: e.keyId,
          subjectKeyId: e.subjectKeyId,
          eventId: e.eventId,
        });
        expect(body).toEqual({ argsDigest: r.argsDigest, subjectId: r.subjectId, details: r.details });
      });
    }
  });

  it('an entry far larger than the line buffer planned for (its AAD and line grow the buffer) decrypts and verifies', () => {
    const masterKey = randomBytes(32);
    const big = '中'.repeat(5000); // 15,000 UTF-8 bytes: more than the 1,024 per entry planned
    const records = [action(0), action(1, { details: { note: big }, actor: big, resource: big }), action(2)];
    const { entries, lines } = buildEntries(`chain-${big}`, records, 0, 'a'.repeat(64), {
      keyId: 'k1',
      masterKey,
      subjectKeys: new Map(),
    });
    const parsed = lines.toString('utf8').slice(0, -1).split('\n');
    entries.forEach((e, i) => {
      expect(JSON.parse(parsed[i]!)).toEqual(plainJsonOf(e));
      expect(e.hash).toBe(entryHash(e));
      const aad = {
        chain: `chain-${big}`,
        seq: e.seq,
        prevHash: e.prevHash,
        keyId: 'k1',
        subjectKeyId: null,
        eventId: e.eventId,
      };
      expect(openBody(masterKey, e, aad).details).toEqual(records[i]!.details);
    });
  });

  it('the fast body text equals canonicalize as the details keys change from record to record', () => {
    const noProto = Object.assign(Object.create(null) as Record<string, string>, { b: '1', a: '2' });
    const detailsSeries: Record<string, string>[] = [
      { b: '1', a: '2' },
      { b: '3', a: '2' },
      { a: '2', b: '1' }, // the same keys in another order
      {},
      { a: '1' },
      { a: '1', b: '2' }, // one key more
      { a: '1' }, // one key fewer
      { 10: 'x', 2: 'y', a: 'z' }, // integer-like keys: own-key order is not RFC 8785 order
      noProto,
      { z: 'é 中文 😀', y: 'q"uote' }, // a quote to escape, an emoji: the generic path
      { z: 'é 中文 😀', y: 'plain' },
      { a: 'x', b: 'x' },
    ];
    const plain = new PlainBodies();
    for (const [i, details] of detailsSeries.entries()) {
      const r = action(i, { details, argsDigest: i % 2 ? 'd' : null, subjectId: i % 3 ? null : 's' });
      const text = plain.text(r, r.source, null);
      const expected = canonicalJson({ argsDigest: r.argsDigest, subjectId: r.subjectId, details });
      if (text !== undefined) expect(text).toBe(expected);
      // The generic path only for the values with a quote or a surrogate (the emoji).
      else expect([9, 10]).toContain(i);
    }
  });

  it('refuses a lone surrogate (canonicalize has no text for it), as before', () => {
    const keys = { keyId: 'k1', masterKey: randomBytes(32), subjectKeys: new Map() };
    expect(() => buildEntries('0', [action(0, { actor: 'x\ud800' })], 0, 'a'.repeat(64), keys)).toThrow(
      /surrogate/i,
    );
    expect(() =>
      buildEntries('0', [action(0, { details: { a: '\udc00' } })], 0, 'a'.repeat(64), keys),
    ).toThrow(/surrogate/i);
  });

  it('stores exactly the source position fields (an extra field on the record would not verify)', () => {
    const keys = { keyId: 'k1', masterKey: randomBytes(32), subjectKeys: new Map() };
    const source = { topic: 't', partition: 1, offset: '9', leaderEpoch: 3 };
    const { entries, lines } = buildEntries('0', [action(0, { source })], 0, 'a'.repeat(64), keys);
    expect(entries[0]!.source).toEqual({ topic: 't', partition: 1, offset: '9' });
    expect(JSON.parse(lines.toString()).source).toEqual({ topic: 't', partition: 1, offset: '9' });
  });

  it('a chain written in the earlier line layout still verifies, reads and decrypts, also continued in the new one', async () => {
    const { keys } = makeKeys();
    const store = createSegmentStore({ dir, fsync: false });
    const subjectKeys = await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys);
    const options = { keys, subjectKeys, checkpointEvery: 4, checkpointIntervalMs: 3_600_000 };
    // Without the writer's lines the store writes JSON.stringify(entry): the layout of earlier releases.
    const inner = await store.openAppender('0');
    const old = createChainWriter({
      ...options,
      appender: {
        chainId: inner.chainId,
        state: inner.state,
        append: (entries) => inner.append(entries),
        appendCheckpoint: (cp) => inner.appendCheckpoint(cp),
        close: () => inner.close(),
      },
    });
    const subjectOf = (i: number) => (i % 2 === 0 ? `subject-${i % 4}` : null);
    const written: AuditEntry[] = [];
    for (let i = 0; i < 10; i += 5) {
      written.push(
        ...(await old.append([0, 1, 2, 3, 4].map((j) => action(i + j, { subjectId: subjectOf(i + j) })))),
      );
    }
    await old.close();
    const oldLines = (await readFile((await chainFiles(dir))[0]!, 'utf8')).split('\n').filter(Boolean);
    expect(oldLines).toEqual(written.map((e) => JSON.stringify(e)));

    const writer = await openChainWriter(store, '0', options);
    written.push(
      ...(await writer.append([10, 11, 12, 13].map((i) => action(i, { subjectId: subjectOf(i) })))),
    );
    await writer.close();
    const all = (await readFile((await chainFiles(dir))[0]!, 'utf8')).split('\n').filter(Boolean);
    expect(all.slice(0, 10)).toEqual(oldLines);
    expect(all.slice(10).map((l) => JSON.parse(l))).toEqual(written.slice(10).map(plainJsonOf));
    expect(all[10]).not.toBe(JSON.stringify(written[10]));

    const verified = await verifyChain(createSegmentStore({ dir }), keys, { decrypt: true, subjectKeys });
    expect(verified).toMatchObject({ ok: true, chains: [{ entries: 14, decrypted: 14 }] });
    const shown = [];
    for await (const s of readAuditEntries(createSegmentStore({ dir }), { decrypt: { keys, subjectKeys } })) {
      shown.push(s);
    }
    expect(shown.map((s) => s.entry)).toEqual(written.map(plainJsonOf));
    expect(shown.map((s) => s.body)).toEqual(
      written.map((e) => {
        const d = decryptEntry('0', e, keys, subjectKeys);
        return 'body' in d ? d.body : 'forgotten';
      }),
    );
    expect(
      shown.every((s) => typeof s.body === 'object' && s.body.details.note?.startsWith('secret-note-')),
    ).toBe(true);
  });

  it('every stored line is its entry’s canonical text plus the hash, so it hashes as it reads', async () => {
    const { keys } = makeKeys();
    const store = createSegmentStore({ dir, fsync: false });
    const subjectKeys = await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys);
    const writer = await openChainWriter(store, '0', {
      keys,
      subjectKeys,
      checkpointEvery: 100,
      checkpointIntervalMs: 3_600_000,
    });
    await writer.append([action(0), action(1, { actor: 'a "quoted" actor', subjectId: 's' })]);
    await writer.close();
    for (const line of (await readFile((await chainFiles(dir))[0]!, 'utf8')).split('\n').filter(Boolean)) {
      const { hash, ...rest } = JSON.parse(line) as AuditEntry;
      expect(line).toBe(`${canonicalJson(rest).slice(0, -1)},"hash":"${hash}"}`);
    }
  });
});
