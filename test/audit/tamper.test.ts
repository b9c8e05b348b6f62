import { sign } from 'node:crypto';
import { appendFile, cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointPayload, entryHash } from '../../audit/entry.ts';
import type { AuditKeyRing } from '../../audit/keys.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { type VerifyResult, verifyChain } from '../../audit/verify.ts';
import { chainFiles, editLine, locate, makeKeys, tempDir, writeChain } from './support.ts';

// 100 entries in chain 0, checkpoints every 10 entries (seq 10, 20, ... 100).
let dir: string;
let cleanup: () => Promise<void>;
let keys: AuditKeyRing;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  keys = makeKeys().keys;
  await writeChain(dir, keys, 100);
});
afterEach(() => cleanup());

const verify = async (options: { decrypt?: boolean; with?: AuditKeyRing } = {}): Promise<VerifyResult> => {
  const ring = options.with ?? keys;
  const subjectKeys = await openSubjectKeyFile(join(dir, 'subject-keys.json'), ring);
  return verifyChain(createSegmentStore({ dir }), ring, { decrypt: options.decrypt ?? false, subjectKeys });
};

const problemOf = (result: VerifyResult) => {
  if (result.ok) throw new Error('verify passed a tampered chain');
  return result.problem;
};

/** Rewrites entries from `fromSeq` on so every hash and link is consistent again (a careful forger). */
async function relinkFrom(fromSeq: number): Promise<void> {
  let prev: string | undefined;
  for (const file of await chainFiles(dir)) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    for (const [i, line] of lines.entries()) {
      if (line === '') continue;
      const entry = JSON.parse(line);
      if (entry.seq >= fromSeq) {
        if (prev !== undefined) entry.prevHash = prev;
        entry.hash = entryHash(entry);
        lines[i] = JSON.stringify(entry);
      }
      prev = entry.hash;
    }
    await writeFile(file, lines.join('\n'));
  }
}

const checkpointsFile = () => join(dir, 'chain-0', 'checkpoints.jsonl');

describe('audit verify detects and locates tampering', () => {
  it('passes an untouched chain, decrypting every entry', async () => {
    const result = await verify({ decrypt: true });
    expect(result.ok).toBe(true);
    expect(result.chains).toEqual([
      expect.objectContaining({
        chain: '0',
        entries: 100,
        checkpoints: 10,
        lastCheckpointSeq: 100,
        decrypted: 100,
      }),
    ]);
  });

  it('one flipped ciphertext byte: hash mismatch at that entry', async () => {
    const at = await locate(dir, 37);
    await editLine(at.file, at.line, (text) => {
      const entry = JSON.parse(text);
      const bytes = Buffer.from(entry.ciphertext, 'base64');
      bytes[3] = bytes[3]! ^ 0x01;
      entry.ciphertext = bytes.toString('base64');
      return JSON.stringify(entry);
    });
    expect(problemOf(await verify())).toMatchObject({ chain: '0', seq: 37, reason: 'hash-mismatch', ...at });
  });

  it('flipped byte with every hash recomputed: the signed checkpoint no longer matches', async () => {
    const at = await locate(dir, 37);
    await editLine(at.file, at.line, (text) => {
      const entry = JSON.parse(text);
      const bytes = Buffer.from(entry.ciphertext, 'base64');
      bytes[0] = bytes[0]! ^ 0x80;
      entry.ciphertext = bytes.toString('base64');
      return JSON.stringify(entry);
    });
    await relinkFrom(37);
    expect(problemOf(await verify())).toMatchObject({
      seq: 40,
      reason: 'checkpoint-mismatch',
      ...(await locate(dir, 40)),
    });
  });

  it('flipped byte after the last checkpoint with hashes recomputed: only --decrypt catches it', async () => {
    await writeChain(dir, keys, 5, { every: 1000 }); // entries 101..105, not yet checkpointed
    const at = await locate(dir, 103);
    await editLine(at.file, at.line, (text) => {
      const entry = JSON.parse(text);
      const bytes = Buffer.from(entry.ciphertext, 'base64');
      bytes[1] = bytes[1]! ^ 0x10;
      entry.ciphertext = bytes.toString('base64');
      return JSON.stringify(entry);
    });
    await relinkFrom(103);
    // writeChain's close() checkpointed 105 with the original hash, so drop that checkpoint too.
    const cps = (await readFile(checkpointsFile(), 'utf8')).trim().split('\n');
    await writeFile(checkpointsFile(), `${cps.slice(0, -1).join('\n')}\n`);
    expect((await verify()).ok).toBe(true);
    expect(problemOf(await verify({ decrypt: true }))).toMatchObject({
      seq: 103,
      reason: 'decrypt-failed',
      ...at,
    });
  });

  it('an edited field: hash mismatch at that entry', async () => {
    const at = await locate(dir, 55);
    await editLine(at.file, at.line, (text) =>
      JSON.stringify({ ...JSON.parse(text), actor: 'someone-else' }),
    );
    expect(problemOf(await verify())).toMatchObject({ seq: 55, reason: 'hash-mismatch', ...at });
  });

  it('a deleted entry: sequence gap where it was', async () => {
    const at = await locate(dir, 20);
    await editLine(at.file, at.line, () => null);
    expect(problemOf(await verify())).toMatchObject({ seq: 21, reason: 'seq-gap', ...at });
  });

  it('two swapped entries: located at the first moved line', async () => {
    const a = await locate(dir, 30);
    const b = await locate(dir, 31);
    expect(a.file).toBe(b.file);
    const lines = (await readFile(a.file, 'utf8')).split('\n');
    [lines[a.line - 1], lines[b.line - 1]] = [lines[b.line - 1]!, lines[a.line - 1]!];
    await writeFile(a.file, lines.join('\n'));
    expect(problemOf(await verify())).toMatchObject({
      seq: 31,
      reason: 'seq-gap',
      file: a.file,
      line: a.line,
    });
  });

  it('a truncated tail: the last signed checkpoint lies beyond the last entry', async () => {
    for (let seq = 100; seq > 95; seq--) {
      const at = await locate(dir, seq);
      await editLine(at.file, at.line, () => null);
    }
    expect(problemOf(await verify())).toMatchObject({
      seq: 96,
      reason: 'truncated-tail',
      file: checkpointsFile(),
      line: 10,
    });
  });

  it('a chain re-signed with another key: unknown signing key', async () => {
    const forger = makeKeys().keys;
    await rm(join(dir, 'chain-0'), { recursive: true });
    await writeChain(dir, forger, 100);
    expect(problemOf(await verify())).toMatchObject({ seq: 10, reason: 'unknown-signing-key', line: 1 });
  });

  it('checkpoints re-signed with another key under our key id: bad signature', async () => {
    const forger = makeKeys().keys.signingKeys.values().next().value!;
    const lines = (await readFile(checkpointsFile(), 'utf8')).trim().split('\n');
    const forged = lines.map((l) => {
      const cp = JSON.parse(l);
      return JSON.stringify({
        ...cp,
        signature: sign(null, checkpointPayload(cp), forger.privateKey!).toString('base64'),
      });
    });
    await writeFile(checkpointsFile(), `${forged.join('\n')}\n`);
    expect(problemOf(await verify())).toMatchObject({ seq: 10, reason: 'bad-signature', line: 1 });
  });

  it('an old checkpoint replayed at the end: checkpoints go backwards', async () => {
    const lines = (await readFile(checkpointsFile(), 'utf8')).trim().split('\n');
    await appendFile(checkpointsFile(), `${lines[2]}\n`);
    expect(problemOf(await verify())).toMatchObject({ seq: 30, reason: 'checkpoint-replayed', line: 11 });
  });

  it('an old checkpoint kept over a rewritten chain: checkpoint mismatch', async () => {
    const at = await locate(dir, 61);
    await editLine(at.file, at.line, (text) => JSON.stringify({ ...JSON.parse(text), outcome: 'denied' }));
    await relinkFrom(61);
    expect(problemOf(await verify())).toMatchObject({ seq: 70, reason: 'checkpoint-mismatch' });
  });

  it('a whole chain swapped in from another partition: checkpoint chain id and genesis differ', async () => {
    await writeChain(dir, keys, 20, { chain: '1' });
    await rm(join(dir, 'chain-0'), { recursive: true });
    await cp(join(dir, 'chain-1'), join(dir, 'chain-0'), { recursive: true });
    expect(problemOf(await verify())).toMatchObject({ chain: '0', seq: 10, reason: 'checkpoint-chain' });
  });

  it('a verifier with the wrong keys: unknown signing key, and with --decrypt unknown encryption key', async () => {
    const other = makeKeys().keys;
    expect(problemOf(await verify({ with: other }))).toMatchObject({ reason: 'unknown-signing-key' });
    const mixed: AuditKeyRing = { ...other, signingKeys: keys.signingKeys };
    expect(problemOf(await verify({ with: mixed, decrypt: true }))).toMatchObject({
      seq: 1,
      reason: 'unknown-key',
    });
  });
});
