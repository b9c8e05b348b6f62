import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decryptEntry } from '../../audit/decrypt.ts';
import { auditEntrySchema } from '../../audit/entry.ts';
import {
  type AuditKeyRing,
  createKeyFile,
  generateAuditKeyFile,
  loadAuditKeys,
  parseAuditKeys,
  rotateKeyFile,
} from '../../audit/keys.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { verifyChain } from '../../audit/verify.ts';
import { HubError } from '../../core/errors.ts';
import { chainFiles, makeKeys, tempDir, writeChain } from './support.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

const caught = async (fn: () => Promise<unknown>): Promise<HubError> => {
  try {
    await fn();
  } catch (err) {
    if (err instanceof HubError) return err;
    throw err;
  }
  throw new Error('expected a HubError');
};

async function readAll(keys: AuditKeyRing) {
  const subjectKeys = await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys);
  const out = [];
  for await (const r of createSegmentStore({ dir }).readEntries('0')) {
    const entry = auditEntrySchema.parse(r.value);
    out.push({ entry, body: decryptEntry('0', entry, keys, subjectKeys) });
  }
  return out;
}

describe('audit keys', () => {
  it('refuses to run without a key, pointing at `tributary audit init`', async () => {
    const err = await caught(() => loadAuditKeys({ env: {} }));
    expect(err.code).toBe('AUDIT_KEYS_MISSING');
    expect(err.hint).toContain('tributary audit init');
    const missing = await caught(() =>
      loadAuditKeys({ env: { TRIBUTARY_AUDIT_KEY_FILE: join(dir, 'nope.json') } }),
    );
    expect(missing).toMatchObject({ code: 'AUDIT_KEYS_MISSING', where: { file: join(dir, 'nope.json') } });
  });

  it('reads a key file from the environment (path or base64 JSON) and rejects a malformed one', async () => {
    const file = generateAuditKeyFile({ development: false });
    const path = join(dir, 'keys.json');
    await createKeyFile(path, file);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const fromPath = await loadAuditKeys({ env: { TRIBUTARY_AUDIT_KEY_FILE: path } });
    const fromEnv = await loadAuditKeys({
      env: { TRIBUTARY_AUDIT_KEYS: Buffer.from(JSON.stringify(file)).toString('base64') },
    });
    expect(fromPath.currentEncryptionKeyId).toBe(file.encryption.current!);
    expect(fromEnv.encryptionKeys.get(file.encryption.current!)).toEqual(
      fromPath.encryptionKeys.get(file.encryption.current!),
    );
    const bad = { ...file, encryption: { ...file.encryption, current: 'missing-id' } };
    expect(() => parseAuditKeys(JSON.stringify(bad), 'x.json')).toThrow(/current encryption key missing-id/);
    expect(() => parseAuditKeys('{not json', 'x.json')).toThrow(/not JSON/);
  });

  it('never overwrites an existing key file', async () => {
    const path = join(dir, 'keys.json');
    await createKeyFile(path, generateAuditKeyFile({ development: true }));
    const before = await readFile(path, 'utf8');
    const err = await caught(() => createKeyFile(path, generateAuditKeyFile({ development: true })));
    expect(err.code).toBe('AUDIT_FILE_EXISTS');
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('rotation: new entries use the new key, old entries stay readable with the old key kept', async () => {
    const path = join(dir, 'keys.json');
    await createKeyFile(path, generateAuditKeyFile({ development: true }));
    const first = await loadAuditKeys({ keyFile: path });
    await writeChain(dir, first, 10);
    const rotated = await rotateKeyFile(path);
    const second = await loadAuditKeys({ keyFile: path });
    expect(second.currentEncryptionKeyId).toBe(rotated.encryptionKeyId);
    expect(second.currentEncryptionKeyId).not.toBe(first.currentEncryptionKeyId);
    expect(second.encryptionKeys.size).toBe(2);
    await writeChain(dir, second, 10);
    const all = await readAll(second);
    expect(all.map((e) => e.entry.keyId)).toEqual([
      ...Array(10).fill(first.currentEncryptionKeyId),
      ...Array(10).fill(second.currentEncryptionKeyId),
    ]);
    expect(all.every((e) => 'body' in e.body && e.body.body.details.note?.startsWith('secret-note-'))).toBe(
      true,
    );
    const verified = await verifyChain(createSegmentStore({ dir }), second, { decrypt: true });
    expect(verified).toMatchObject({ ok: true, chains: [{ entries: 20, decrypted: 20 }] });
    // A ring holding only the new key cannot read the old entries, and says which key is missing.
    const onlyNew: AuditKeyRing = {
      ...second,
      encryptionKeys: new Map([
        [second.currentEncryptionKeyId, second.encryptionKeys.get(second.currentEncryptionKeyId)!],
      ]),
    };
    const partial = await verifyChain(createSegmentStore({ dir }), onlyNew, { decrypt: true });
    expect(partial).toMatchObject({ ok: false, problem: { seq: 1, reason: 'unknown-key' } });
  });

  it('a wrong key under the right id fails authentication, naming the entry', async () => {
    const { keys } = makeKeys();
    await writeChain(dir, keys, 5);
    const wrong: AuditKeyRing = {
      ...keys,
      encryptionKeys: new Map([[keys.currentEncryptionKeyId, Buffer.alloc(32, 7)]]),
    };
    const result = await verifyChain(createSegmentStore({ dir }), wrong, { decrypt: true });
    expect(result).toMatchObject({ ok: false, problem: { seq: 1, reason: 'decrypt-failed', line: 1 } });
  });
});

describe('crypto-shredding', () => {
  it('forgetting a subject makes its entries unreadable while the chain still verifies', async () => {
    const { keys } = makeKeys();
    const subjectOf = (i: number) =>
      i % 3 === 0 ? 'alice@example.com' : i % 3 === 1 ? 'bob@example.com' : null;
    await writeChain(dir, keys, 30, { subjectOf });
    // The subject id is never stored in clear, neither in the chain nor in the subject key file.
    const onDisk = await Promise.all(
      [...(await chainFiles(dir)), join(dir, 'subject-keys.json')].map((f) => readFile(f, 'utf8')),
    );
    expect(onDisk.join('')).not.toContain('alice@example.com');

    const subjectKeys = await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys);
    expect(await subjectKeys.forget('alice@example.com')).toMatch(/^sk-/);
    expect(await subjectKeys.forget('nobody@example.com')).toBeUndefined();

    const all = await readAll(keys);
    const alice = all.filter((_, i) => i % 3 === 0);
    const bob = all.filter((_, i) => i % 3 === 1);
    const none = all.filter((_, i) => i % 3 === 2);
    expect(alice.every((e) => 'forgottenAt' in e.body)).toBe(true);
    expect(bob.every((e) => 'body' in e.body && e.body.body.subjectId === 'bob@example.com')).toBe(true);
    expect(none.every((e) => 'body' in e.body && e.body.body.subjectId === null)).toBe(true);

    const result = await verifyChain(createSegmentStore({ dir }), keys, { decrypt: true, subjectKeys });
    expect(result).toMatchObject({ ok: true, chains: [{ entries: 30, decrypted: 20, forgotten: 10 }] });
    // The key material itself is gone from the file, not just marked.
    const file = JSON.parse(await readFile(join(dir, 'subject-keys.json'), 'utf8'));
    expect(file.subjects).toHaveLength(1);
    expect(file.forgotten).toHaveLength(1);
  });

  it('a forget from another process is not undone by a running writer', async () => {
    const { keys } = makeKeys();
    const path = join(dir, 'subject-keys.json');
    const writerSide = await openSubjectKeyFile(path, keys);
    const carol = await writerSide.keysFor(['carol']);
    const cliSide = await openSubjectKeyFile(path, keys);
    await cliSide.forget('carol');
    await writerSide.keysFor(['dave']);
    const file = JSON.parse(await readFile(path, 'utf8'));
    expect(file.subjects.map((s: { id: string }) => s.id)).not.toContain(carol.get('carol')!.id);
    expect(file.forgotten.map((s: { id: string }) => s.id)).toContain(carol.get('carol')!.id);
    expect((await readdir(dir)).filter((n) => n.endsWith('.lock'))).toEqual([]);
    await writeFile(path, 'garbage');
    await expect(openSubjectKeyFile(path, keys)).rejects.toMatchObject({
      code: 'AUDIT_SUBJECT_KEYS_INVALID',
    });
  });
});
