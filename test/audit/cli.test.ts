import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAuditKeys } from '../../audit/keys.ts';
import { registerAuditCommands } from '../../cli/commands/audit.ts';
import { HubError } from '../../core/errors.ts';
import { createHubContext } from '../../platform/index.ts';
import { editLine, locate, tempDir, writeChain } from './support.ts';

let dir: string;
let cleanup: () => Promise<void>;
let out: string[];
let err: string[];
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  out = [];
  err = [];
});
afterEach(() => cleanup());

/** Runs `tributary audit ...` in-process with an empty environment and no reachable Kafka. */
async function audit(...args: string[]): Promise<string> {
  const program = new Command('tributary').exitOverride();
  registerAuditCommands(program, {
    env: {},
    write: (t) => out.push(t),
    writeErr: (t) => err.push(t),
    // Nothing listens on port 1: `forget` works offline and says its action was not sent.
    hubContext: () => createHubContext({ env: { KAFKA_BROKERS: '127.0.0.1:1' } }),
    emitTimeoutMs: 1_500,
  });
  out.length = 0;
  await program.parseAsync(['audit', ...args], { from: 'user' });
  return out.join('');
}

async function failure(...args: string[]): Promise<HubError> {
  try {
    await audit(...args);
  } catch (e) {
    if (e instanceof HubError) return e;
    throw e;
  }
  throw new Error(`audit ${args.join(' ')} did not fail`);
}

describe('tributary audit CLI', () => {
  it('init, verify, show, forget and rotate-key on a real chain', async () => {
    const keyFile = join(dir, 'keys.json');
    const store = join(dir, 'audit');
    expect(await audit('init', '--key-file', keyFile)).toBe(`${keyFile}\n`);
    expect(err.join('')).toContain('DEVELOPMENT AUDIT KEY FILE');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await failure('init', '--key-file', keyFile)).toMatchObject({ code: 'AUDIT_FILE_EXISTS' });

    const keys = await loadAuditKeys({ keyFile });
    await writeChain(store, keys, 12, { subjectOf: (i) => (i === 4 ? 'erin@example.com' : null) });
    const k = ['--dir', store, '--key-file', keyFile];
    expect(await audit('verify', ...k, '--decrypt')).toBe(
      'chain 0: 12 entries ok, 2 checkpoints (last at seq 12, 0 after it), 12 decrypted, 0 forgotten\nverify: ok\n',
    );

    const plain = await audit('show', ...k);
    expect(plain.trim().split('\n')).toHaveLength(12);
    expect(plain).not.toContain('secret-note');
    expect(plain).toContain(
      '0:5 2026-01-01T00:00:04.000Z succeeded connector.sync.batch actor=user-1 resource=crm.contact',
    );
    const decrypted = await audit('show', ...k, '--decrypt', '--actor', 'user-1');
    expect(decrypted.trim().split('\n')).toHaveLength(4);
    expect(decrypted).toContain('details={"count":"4","note":"secret-note-4"} subject=erin@example.com');
    const since = await audit('show', ...k, '--since', '2026-01-01T00:00:10Z', '--json');
    expect(
      since
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).seq),
    ).toEqual([11, 12]);

    const forgot = await audit('forget', 'erin@example.com', ...k);
    expect(forgot).toMatch(/^forgot subject key sk-/);
    expect(forgot).toContain(
      'the audit.forget action could not be sent (Kafka not reached within 1500 ms); the key is forgotten all the same',
    );
    expect(await audit('show', ...k, '--decrypt', '--actor', 'user-1')).toContain(
      '0:5 2026-01-01T00:00:04.000Z succeeded connector.sync.batch actor=user-1 resource=crm.contact [forgotten]',
    );
    expect(await audit('verify', ...k, '--decrypt')).toContain('11 decrypted, 1 forgotten');

    const rotated = await audit('rotate-key', '--key-file', keyFile);
    expect(rotated).toMatch(/^encryption key enc-/);
    await writeChain(store, await loadAuditKeys({ keyFile }), 3);
    expect(await audit('verify', ...k, '--decrypt')).toContain('chain 0: 15 entries ok');
  });

  it('verify exits with the first bad entry, its file and line, and why', async () => {
    const keyFile = join(dir, 'keys.json');
    const store = join(dir, 'audit');
    await audit('init', '--key-file', keyFile);
    await writeChain(store, await loadAuditKeys({ keyFile }), 20);
    const at = await locate(store, 7);
    await editLine(at.file, at.line, (t) => JSON.stringify({ ...JSON.parse(t), resource: 'elsewhere' }));
    const e = await failure('verify', '--dir', store, '--key-file', keyFile);
    expect(e.code).toBe('AUDIT_VERIFY_FAILED');
    expect(e.message).toContain('chain 0 entry seq 7: hash-mismatch');
    expect(e.where).toMatchObject({ file: at.file, line: at.line, chain: '0', seq: 7 });
    expect(await failure('verify', '--dir', join(dir, 'empty'), '--key-file', keyFile)).toMatchObject({
      code: 'AUDIT_NO_CHAINS',
    });
  });

  it('run, verify and forget refuse without a key and say to run `tributary audit init`', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      for (const cmd of [['run'], ['verify'], ['forget', 'x']]) {
        const e = await failure(...cmd, '--dir', join(dir, 'audit'));
        expect(e.code).toBe('AUDIT_KEYS_MISSING');
        expect(e.hint).toContain('tributary audit init');
      }
    } finally {
      process.chdir(cwd);
    }
    // A corrupt key file is named, and left as it was.
    await writeFile(join(dir, 'bad.json'), '{"version":1');
    expect(await failure('verify', '--key-file', join(dir, 'bad.json'))).toMatchObject({
      code: 'AUDIT_KEYS_INVALID',
      where: { file: join(dir, 'bad.json') },
    });
    expect(await readFile(join(dir, 'bad.json'), 'utf8')).toBe('{"version":1');
  });

  it('export-keys writes a verify-only copy: verify works with it, it holds no private signing key', async () => {
    const keyFile = join(dir, 'keys.json');
    const store = join(dir, 'audit');
    await audit('init', '--key-file', keyFile);
    await audit('rotate-key', '--key-file', keyFile, '--signing');
    const keys = await loadAuditKeys({ keyFile });
    await writeChain(store, keys, 12, { subjectOf: (i) => (i === 3 ? 'frank@example.com' : null) });
    const publicOnly = join(dir, 'verify-only.json');
    const withDecrypt = join(dir, 'verify-decrypt.json');
    expect(await audit('export-keys', '--verify-only', '--key-file', keyFile, '--out', publicOnly)).toBe(
      `${publicOnly}: 2 public signing key(s)\n`,
    );
    await audit('export-keys', '--verify-only', '--decrypt', '--key-file', keyFile, '--out', withDecrypt);

    for (const path of [publicOnly, withDecrypt]) {
      const text = await readFile(path, 'utf8');
      expect(text).not.toMatch(/privateKey/i);
      const own = JSON.parse(await readFile(keyFile, 'utf8'));
      for (const k of own.signing.keys) expect(text).not.toContain(k.privateKey);
      expect(JSON.parse(text).signing.keys.map((k: { id: string }) => k.id)).toEqual(
        own.signing.keys.map((k: { id: string }) => k.id),
      );
    }
    expect(JSON.parse(await readFile(publicOnly, 'utf8')).encryption).toEqual({ keys: [] });
    expect((await stat(withDecrypt)).mode & 0o777).toBe(0o600);

    expect(await audit('verify', '--dir', store, '--key-file', publicOnly)).toContain('verify: ok');
    expect(await audit('verify', '--dir', store, '--key-file', withDecrypt, '--decrypt')).toContain(
      '12 decrypted, 0 forgotten',
    );
    expect(await audit('show', '--dir', store, '--key-file', withDecrypt, '--decrypt')).toContain(
      'subject=frank@example.com',
    );
    // Public keys only: bodies stay closed, and nothing can be signed or written with the copy.
    expect(
      (await failure('verify', '--dir', store, '--key-file', publicOnly, '--decrypt')).message,
    ).toContain('unknown-key');
    expect(await failure('run', '--dir', store, '--key-file', withDecrypt)).toMatchObject({
      code: 'AUDIT_KEYS_VERIFY_ONLY',
    });
    // A tampered chain is still caught by the copy.
    const at = await locate(store, 5);
    await editLine(at.file, at.line, (t) => JSON.stringify({ ...JSON.parse(t), actor: 'someone-else' }));
    expect((await failure('verify', '--dir', store, '--key-file', publicOnly)).message).toContain(
      'chain 0 entry seq 5: hash-mismatch',
    );
    expect(await failure('export-keys', '--key-file', keyFile, '--out', publicOnly)).toMatchObject({
      code: 'AUDIT_FILE_EXISTS',
    });
  });
});
