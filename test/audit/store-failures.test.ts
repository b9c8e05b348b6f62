import { constants } from 'node:fs';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChainWriter } from '../../audit/chain-writer.ts';
import type { AuditKeyRing } from '../../audit/keys.ts';
import { openSegmentAppender } from '../../audit/segment-appender.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { verifyChain } from '../../audit/verify.ts';
import { action, chainFiles, makeKeys, tempDir } from './support.ts';

/**
 * A write or fsync of the real segment files that fails (a full disk, an I/O error) must not
 * leave the chain broken: the file is cut back to where the failed append started, so the
 * writer's retry continues the chain. Faults are injected into the real file handles.
 */

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

type Fault = 'short write' | 'no bytes' | 'fsync' | 'truncate';

const errno = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}`), { code });

/**
 * Opens real files whose next operations fail as `faults` says (each fault once, in order), and
 * records the flags each file was opened with. With fsync on, files are opened O_DSYNC, so a
 * failed sync is reported by the write itself, after the data went in.
 */
function faultyOpen(faults: Fault[], flagsSeen: number[] = []) {
  return async (path: string, flags: number): Promise<FileHandle> => {
    flagsSeen.push(flags);
    const real = await open(path, flags);
    return new Proxy(real, {
      get(target, prop) {
        if (prop === 'write' && faults[0] === 'short write') {
          return async (data: Buffer, offset: number, length: number) => {
            faults.shift();
            // The kernel took the first half, then the disk was full.
            await target.write(data, offset, Math.floor(length / 2));
            throw errno('ENOSPC', 'no space left on device, write');
          };
        }
        if (prop === 'write' && faults[0] === 'no bytes') {
          // Stays until the test removes it: every write takes nothing.
          return async (data: Buffer) => ({ bytesWritten: 0, buffer: data });
        }
        if (prop === 'write' && faults[0] === 'fsync') {
          return async (data: Buffer, offset: number, length: number) => {
            faults.shift();
            await target.write(data, offset, length);
            throw errno('EIO', 'i/o error, write');
          };
        }
        if (prop === 'truncate' && faults[0] === 'truncate') {
          return async () => {
            faults.shift();
            throw errno('EIO', 'i/o error, ftruncate');
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}

async function writerWith(keys: AuditKeyRing, faults: Fault[], fsync = true, flagsSeen: number[] = []) {
  const appender = await openSegmentAppender({
    chainId: '0',
    dir: join(dir, 'chain-0'),
    segments: await chainFiles(dir).catch(() => []),
    fsync,
    segmentBytes: 64 * 1024 * 1024,
    recentEventIds: 1000,
    openFile: faultyOpen(faults, flagsSeen),
  });
  const writer = createChainWriter({
    appender,
    keys,
    subjectKeys: await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys),
    checkpointEvery: 1000,
    checkpointIntervalMs: 3_600_000,
  });
  return writer;
}

const batchOf = (from: number) => [action(from), action(from + 1), action(from + 2)];

/** A chain on faulty files with one batch (seqs 1-3) appended; push to `faults` to fail what comes next. */
async function chainWithOneBatch() {
  const { keys } = makeKeys();
  const faults: Fault[] = [];
  const writer = await writerWith(keys, faults);
  await writer.append(batchOf(0));
  return { keys, faults, writer };
}

async function storedSeqs(): Promise<number[]> {
  const [file] = await chainFiles(dir);
  const text = await readFile(file!, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { seq: number }).seq);
}

describe('segment files', () => {
  it('are written with O_DSYNC when fsync is on (each write durable when it returns), without when off', async () => {
    const { keys } = makeKeys();
    const synced: number[] = [];
    const writer = await writerWith(keys, [], true, synced);
    await writer.append(batchOf(0));
    await writer.close(); // writes the final checkpoint
    expect(synced).toHaveLength(2); // the segment and the checkpoints file
    for (const flags of synced) expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC);
    for (const flags of synced) expect(flags & constants.O_APPEND).toBe(constants.O_APPEND);

    const unsynced: number[] = [];
    const other = await writerWith(keys, [], false, unsynced);
    await other.append(batchOf(3));
    await other.close();
    expect(unsynced).toHaveLength(2);
    for (const flags of unsynced) expect(flags & constants.O_DSYNC).toBe(0);
    expect(await storedSeqs()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('segment files after a failed append', () => {
  it('cuts a write the full disk cut short, and the retried batch continues the chain', async () => {
    const { keys, faults, writer } = await chainWithOneBatch();
    faults.push('short write');
    const second = batchOf(3);
    await expect(writer.append(second)).rejects.toThrow(/ENOSPC/);
    expect(writer.head().seq).toBe(3);
    await writer.append(second);
    await writer.close();
    expect(await storedSeqs()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({
      ok: true,
      chains: [{ entries: 6 }],
    });
  });

  it('cuts a batch written but not synced, so its retry does not repeat its seqs', async () => {
    const { keys, faults, writer } = await chainWithOneBatch();
    faults.push('fsync');
    const second = batchOf(3);
    await expect(writer.append(second)).rejects.toThrow(/EIO/);
    await writer.append(second);
    await writer.close();
    expect(await storedSeqs()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({ ok: true });
  });

  it('fails a write that takes no bytes instead of trying it again forever', async () => {
    const { faults, writer } = await chainWithOneBatch();
    faults.push('no bytes');
    const second = batchOf(3);
    await expect(writer.append(second)).rejects.toThrow(/took no bytes/);
    faults.length = 0;
    await writer.append(second);
    await writer.close();
    expect(await storedSeqs()).toEqual([1, 2, 3, 4, 5, 6]);
  }, 10_000);

  it('refuses further appends when the cut fails too; reopening the chain repairs its tail', async () => {
    const { keys, faults, writer } = await chainWithOneBatch();
    faults.push('short write', 'truncate');
    const second = batchOf(3);
    await expect(writer.append(second)).rejects.toThrow(/ENOSPC/);
    await expect(writer.append(second)).rejects.toMatchObject({ code: 'AUDIT_STORE_BROKEN' });
    // Its final checkpoint is refused as well; the chain's lock is released all the same.
    await expect(writer.close()).rejects.toMatchObject({ code: 'AUDIT_STORE_BROKEN' });

    // Opened again, as a restarted consumer does: the torn line is cut, the batch is appended
    // again (what was complete of it is dropped as already recorded), and the chain verifies.
    const again = await writerWith(keys, []);
    await again.append(second);
    await again.close();
    expect(await storedSeqs()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({ ok: true });
  });
});
