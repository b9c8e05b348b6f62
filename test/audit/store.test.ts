import { spawnSync } from 'node:child_process';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { verifyChain } from '../../audit/verify.ts';
import { chainFiles, locate, makeKeys, tempDir, writeChain } from './support.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

describe('segment store', () => {
  it('rolls segments by size and resumes from the last entry after reopening', async () => {
    const { keys } = makeKeys();
    await writeChain(dir, keys, 300);
    const files = await chainFiles(dir);
    expect(files.length).toBeGreaterThan(1);
    expect(files[1]).toMatch(/segment-0{8}\d{4}\.jsonl$/);
    const appender = await createSegmentStore({ dir }).openAppender('0');
    expect(appender.state).toMatchObject({
      seq: 300,
      lastSource: { topic: 'hub.actions', partition: 0, offset: '299' },
      lastCheckpoint: { seq: 300 },
    });
    expect(appender.state.recentEventIds.length).toBeGreaterThan(0);
    await appender.close();
    await writeChain(dir, keys, 50);
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({
      ok: true,
      chains: [{ entries: 350 }],
    });
  });

  it('a corrupt line in the middle: clear error naming file and line, nothing written', async () => {
    const { keys } = makeKeys();
    await writeChain(dir, keys, 20);
    const at = await locate(dir, 8);
    const lines = (await readFile(at.file, 'utf8')).split('\n');
    lines[at.line - 1] = lines[at.line - 1]!.slice(0, 40);
    await writeFile(at.file, lines.join('\n'));
    const before = await readFile(at.file);

    await expect(createSegmentStore({ dir }).openAppender('0')).rejects.toMatchObject({
      code: 'AUDIT_SEGMENT_CORRUPT',
      where: { file: at.file, line: at.line },
    });
    expect(await readFile(at.file)).toEqual(before);
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({
      ok: false,
      problem: { reason: 'corrupt-segment', file: at.file, line: at.line },
    });
  });

  it('a torn last line (crash mid-write): verify reports it; reopening cuts it and keeps the cut bytes', async () => {
    const { keys } = makeKeys();
    await writeChain(dir, keys, 20, { every: 1000 });
    const [file] = await chainFiles(dir);
    const torn = '{"seq":21,"time":"2026-01-01T00:00:00.000Z","action":"connector.sy';
    await appendFile(file!, torn);

    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({
      ok: false,
      problem: { reason: 'torn-tail', file, line: 21 },
    });
    const appender = await createSegmentStore({ dir }).openAppender('0');
    expect(appender.state.seq).toBe(20);
    expect(appender.state.repaired).toEqual([
      { file, line: 21, bytes: torn.length, savedTo: expect.stringMatching(/torn-.*\.cut$/) },
    ]);
    await appender.close();
    const cut = (await readdir(join(dir, 'chain-0'))).filter((n) => n.endsWith('.cut'));
    expect(cut).toHaveLength(1);
    expect(await readFile(join(dir, 'chain-0', cut[0]!), 'utf8')).toBe(torn);
    await writeChain(dir, keys, 5);
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({
      ok: true,
      chains: [{ entries: 25 }],
    });
  });

  it('an edited last entry stops the writer from extending a damaged chain', async () => {
    const { keys } = makeKeys();
    await writeChain(dir, keys, 5);
    const at = await locate(dir, 5);
    const lines = (await readFile(at.file, 'utf8')).split('\n');
    lines[at.line - 1] = JSON.stringify({ ...JSON.parse(lines[at.line - 1]!), extra: 1 });
    await writeFile(at.file, lines.join('\n'));
    await expect(createSegmentStore({ dir }).openAppender('0')).rejects.toMatchObject({
      code: 'AUDIT_SEGMENT_CORRUPT',
      where: { file: at.file, line: at.line },
    });
  });
});

describe('segment store refuses a damaged head', () => {
  it('an edited last entry (valid JSON, wrong hash) is not extended', async () => {
    const { keys } = makeKeys();
    await writeChain(dir, keys, 5);
    const at = await locate(dir, 5);
    const lines = (await readFile(at.file, 'utf8')).split('\n');
    lines[at.line - 1] = JSON.stringify({ ...JSON.parse(lines[at.line - 1]!), actor: 'mallory' });
    await writeFile(at.file, lines.join('\n'));
    await expect(createSegmentStore({ dir }).openAppender('0')).rejects.toMatchObject({
      code: 'AUDIT_CHAIN_DAMAGED',
      where: { file: at.file, line: at.line },
    });
  });
});

describe('one writer per chain', () => {
  it('a second appender is refused while the first is open; a lock left by a dead process is taken over', async () => {
    const { keys } = makeKeys();
    await writeChain(dir, keys, 3);
    const store = createSegmentStore({ dir });
    const first = await store.openAppender('0');
    expect(await store.activeWriter('0')).toBe(`pid ${process.pid} on ${hostname()}`);
    await expect(createSegmentStore({ dir }).openAppender('0')).rejects.toMatchObject({
      code: 'AUDIT_CHAIN_LOCKED',
      retriable: true,
    });
    await first.close();
    expect(await store.activeWriter('0')).toBeNull();

    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const lock = join(dir, 'chain-0', 'writer.lock');
    await writeFile(lock, JSON.stringify({ pid: dead, host: hostname(), since: new Date().toISOString() }));
    expect(await store.activeWriter('0')).toBeNull();
    const again = await store.openAppender('0');
    expect(JSON.parse(await readFile(lock, 'utf8')).pid).toBe(process.pid);
    await again.close();
  });

  it('verify does not call a running writer’s half-written batch damage', async () => {
    const { keys } = makeKeys();
    await writeChain(dir, keys, 10);
    const writer = await createSegmentStore({ dir }).openAppender('0');
    const [file] = await chainFiles(dir);
    await appendFile(file!, '{"seq":11,"time":"2026');
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({
      ok: true,
      chains: [{ entries: 10, inProgress: true }],
    });
    await writer.close();
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({
      ok: false,
      problem: { reason: 'torn-tail', line: 11 },
    });
  });
});

describe('wrong key file', () => {
  it('a writer with another key file refuses to extend the chain and writes nothing', async () => {
    const { keys } = makeKeys();
    await writeChain(dir, keys, 10);
    const before = await Promise.all((await chainFiles(dir)).map((f) => readFile(f)));
    const other = makeKeys().keys;
    await expect(writeChain(dir, other, 5)).rejects.toMatchObject({
      code: 'AUDIT_WRONG_KEY',
      where: { chain: '0' },
    });
    expect(await Promise.all((await chainFiles(dir)).map((f) => readFile(f)))).toEqual(before);
    expect(await createSegmentStore({ dir }).activeWriter('0')).toBeNull();
  });
});
