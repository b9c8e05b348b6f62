import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChainWriter, openChainWriter } from '../../audit/chain-writer.ts';
import { type AuditEntry, genesisHash } from '../../audit/entry.ts';
import type { AuditKeyRing } from '../../audit/keys.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import type { ChainAppender } from '../../audit/store.ts';
import { openSubjectKeyFile, type SubjectKeyStore } from '../../audit/subject-keys.ts';
import { verifyChain } from '../../audit/verify.ts';
import { action, makeKeys, tempDir } from './support.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

interface HeldWrite {
  entries: AuditEntry[];
  /** Lets the real durable write run (or fails it without writing). */
  release(err?: Error): void;
  durable: boolean;
}

/** The real segment appender, each batch held until the test releases it. */
function heldAppender(inner: ChainAppender): { appender: ChainAppender; writes: HeldWrite[] } {
  const writes: HeldWrite[] = [];
  const appender: ChainAppender = {
    chainId: inner.chainId,
    state: inner.state,
    append: (entries) =>
      new Promise<void>((resolve, reject) => {
        const w: HeldWrite = {
          entries,
          durable: false,
          release: (err) => {
            if (err) return reject(err);
            inner.append(entries).then(() => {
              w.durable = true;
              resolve();
            }, reject);
          },
        };
        writes.push(w);
      }),
    appendCheckpoint: (cp) => inner.appendCheckpoint(cp),
    close: () => inner.close(),
  };
  return { appender, writes };
}

/** A chain writer on chain 0 of `dir` (fsync on) whose batch writes wait in `writes` until released. */
async function heldWriter(keys: AuditKeyRing, subjectKeys: SubjectKeyStore) {
  const { appender, writes } = heldAppender(await createSegmentStore({ dir }).openAppender('0'));
  const writer = createChainWriter({
    appender,
    keys,
    subjectKeys,
    checkpointEvery: 1000,
    checkpointIntervalMs: 60_000,
  });
  return { writer, writes };
}

/** The real subject key store, noting which subjects were asked for (a batch being prepared). */
function notingKeys(inner: SubjectKeyStore, asked: string[]): SubjectKeyStore {
  return {
    ...inner,
    keysFor: (ids) => {
      asked.push(...ids);
      return inner.keysFor(ids);
    },
  };
}

/** Lets pending callbacks and I/O run: until `done()`, or for 200 event-loop turns without one. */
async function settle(done?: () => boolean): Promise<void> {
  for (let i = 0; done ? !done() : i < 200; i++) await new Promise((r) => setImmediate(r));
}

function track<T>(p: Promise<T>) {
  const t = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  p.then(
    (v) => Object.assign(t, { settled: true, value: v }),
    (e) => Object.assign(t, { settled: true, error: e }),
  );
  return t;
}

async function storedEntries(): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for await (const r of createSegmentStore({ dir }).readEntries('0')) out.push(r.value as AuditEntry);
  return out;
}

describe('chain writer with batches in flight', () => {
  it('prepares batch n+1 during the write of batch n, writes in call order, acknowledges only after each own write', async () => {
    const { keys } = makeKeys();
    const asked: string[] = [];
    const subjectKeys = notingKeys(await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys), asked);
    const { writer, writes } = await heldWriter(keys, subjectKeys);
    const b1 = [action(0), action(1)];
    const b2 = [action(2, { subjectId: 'subject-b2' }), action(3)];
    const p1 = track(writer.append(b1));
    const p2 = track(writer.append(b2));
    // Batch 2 is prepared (its subject key fetched) while batch 1 is still being written...
    await settle(() => writes.length === 1 && asked.includes('subject-b2'));
    expect(asked).toContain('subject-b2');
    await settle();
    // ...but not written before it, and nothing is acknowledged or in head() before its write.
    expect(writes).toHaveLength(1);
    expect(writes[0]!.entries.map((e) => e.eventId)).toEqual(b1.map((r) => r.eventId));
    expect(p1.settled || p2.settled).toBe(false);
    expect(writer.head().seq).toBe(0);

    writes[0]!.release();
    await settle(() => p1.settled);
    expect(p1.error).toBeUndefined();
    expect(writes[0]!.durable).toBe(true);
    expect(writer.head()).toMatchObject({ seq: 2, hash: p1.value!.at(-1)!.hash });
    await settle(() => writes.length === 2);
    expect(p2.settled).toBe(false);
    expect(writes[1]!.entries[0]).toMatchObject({ seq: 3, prevHash: p1.value!.at(-1)!.hash });

    writes[1]!.release();
    await settle(() => p2.settled);
    expect(writes[1]!.durable).toBe(true);
    expect(writer.head().seq).toBe(4);
    await writer.close();
    expect((await storedEntries()).map((e) => e.eventId)).toEqual([...b1, ...b2].map((r) => r.eventId));
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({ ok: true });
  });

  it('drops an id already in flight (or repeated in its batch); ids leave the in-flight set once written, or when their batch cannot be prepared', async () => {
    const { keys } = makeKeys();
    const real = await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys);
    let failKeys = true;
    const subjectKeys: SubjectKeyStore = {
      ...real,
      keysFor: (ids) =>
        ids.includes('boom') && failKeys
          ? Promise.reject(new Error('key file unreadable'))
          : real.keysFor(ids),
    };
    const { writer, writes } = await heldWriter(keys, subjectKeys);
    const [a0, a1, a2, a3] = [action(0), action(1), action(2), action(3, { subjectId: 'boom' })];
    const p1 = track(writer.append([a0!, a1!]));
    const p2 = track(writer.append([a1!, a2!, a2!, a0!]));
    await settle(() => writes.length === 1);
    writes[0]!.release();
    await settle(() => writes.length === 2);
    writes[1]!.release();
    await settle(() => p1.settled && p2.settled);
    expect(p1.value!.map((e) => e.eventId)).toEqual([a0!.eventId, a1!.eventId]);
    expect(p2.value!.map((e) => e.eventId)).toEqual([a2!.eventId]);

    // A batch whose subject key cannot be had fails before anything is written; sent again, it is
    // not taken for a re-send.
    await expect(writer.append([a3!])).rejects.toThrow('key file unreadable');
    failKeys = false;
    const p3 = track(writer.append([a3!, a0!]));
    await settle(() => writes.length === 3 || p3.settled);
    expect(writes).toHaveLength(3);
    writes[2]!.release();
    await settle(() => p3.settled);
    expect(p3.value!.map((e) => e.eventId)).toEqual([a3!.eventId]);
    // Every id written is remembered.
    expect(await writer.append([a0!, a1!, a2!, a3!])).toEqual([]);
    expect(writer.head().seq).toBe(4);
    await writer.close();
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({ ok: true });
  });

  it('a failed write fails the batches prepared on top of it; the next append continues from the durable head', async () => {
    const { keys } = makeKeys();
    const subjectKeys = await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys);
    const { writer, writes } = await heldWriter(keys, subjectKeys);
    const b1 = [action(0)];
    const b2 = [action(1), action(2)];
    const p1 = track(writer.append(b1));
    const p2 = track(writer.append(b2));
    await settle(() => writes.length === 1);
    writes[0]!.release(new Error('disk full'));
    await settle(() => p1.settled && p2.settled);
    expect(p1.error).toMatchObject({ message: 'disk full' });
    expect(p2.error).toMatchObject({ code: 'AUDIT_APPEND_ABORTED' });
    expect(writes).toHaveLength(1); // batch 2 never reached the appender
    expect(writer.head()).toMatchObject({ seq: 0, hash: genesisHash('0') });

    // The same actions again: not taken for re-sends, linked to the genesis hash.
    const p3 = track(writer.append([...b1, ...b2]));
    await settle(() => writes.length === 2);
    expect(writes[1]!.entries[0]).toMatchObject({ seq: 1, prevHash: genesisHash('0') });
    writes[1]!.release();
    await settle(() => p3.settled);
    expect(p3.error).toBeUndefined();
    expect(p3.value).toHaveLength(3);
    await writer.close();
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({ ok: true });
  });

  it('a process killed with batches in flight leaves a chain that verifies and holds every acknowledged entry', {
    timeout: 60_000,
  }, async () => {
    const { keys, json } = makeKeys();
    await writeFile(join(dir, 'keys.json'), json);
    const proc = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures', 'pipelined-appends.ts'), dir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let acked = 0;
    let output = '';
    const killed = new Promise<void>((resolve) => {
      proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const last = [...chunk.matchAll(/acked (\d+)/g)].at(-1);
        if (last) acked = Number(last[1]);
        if (acked >= 2000 && proc.signalCode === null && proc.exitCode === null) proc.kill('SIGKILL');
      });
      proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
      });
      proc.once('exit', () => resolve());
    });
    await killed;
    expect(output).toBe('');
    expect(proc.signalCode).toBe('SIGKILL');
    // Reopening cuts a torn tail (a batch killed mid-write was never acknowledged).
    const writer = await openChainWriter(createSegmentStore({ dir }), '0', {
      keys,
      subjectKeys: await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys),
      checkpointEvery: 1000,
      checkpointIntervalMs: 60_000,
    });
    expect(writer.head().seq).toBeGreaterThanOrEqual(acked);
    await writer.close();
    const entries = await storedEntries();
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({ ok: true });
  });
});
