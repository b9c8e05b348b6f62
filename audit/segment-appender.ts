import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { acquireChainLock } from './chain-lock.ts';
import {
  type AuditEntry,
  auditEntrySchema,
  type Checkpoint,
  checkpointSchema,
  entryHash,
  genesisHash,
} from './entry.ts';
import { fsyncDir } from './fs-util.ts';
import { CHECKPOINTS_FILE, LOCK_FILE, loadForAppend, segmentName } from './segment-files.ts';
import type { ChainAppender, ChainState, StoredRecord, TornTailRepair } from './store.ts';

export interface SegmentAppenderOptions {
  chainId: string;
  /** The chain's folder. */
  dir: string;
  /** Its segment files, in order. */
  segments: string[];
  fsync: boolean;
  segmentBytes: number;
  recentEventIds: number;
  logger?: Logger;
  /** Opens a file for appending (node's `open` from fs/promises unless given: tests inject failures). */
  openFile?: (path: string, flags: number) => Promise<FileHandle>;
}

const { O_APPEND, O_CREAT, O_WRONLY } = constants;
/**
 * Makes each write durable when it returns. Where the platform has none (Windows) it is 0, and each
 * write is followed by an fsync instead.
 */
const O_DSYNC = (constants as { O_DSYNC?: number }).O_DSYNC ?? 0;

/**
 * Opens a chain folder for appending: takes the writer lock, cuts a torn tail (keeping a copy),
 * refuses a damaged head, and appends each batch with one durable write.
 *
 * With fsync on, files are opened with O_DSYNC: a write returns once its data (and the file's new
 * size) is on disk, as write + fdatasync would, but in one operation on the thread pool instead of
 * two with a turn of the event loop between them. So a write's durability does not wait for the
 * main thread (busy preparing the next batch, or with a checkpoint written after a batch).
 *
 * A write that fails (a full disk, an I/O error) may have left part or all of the
 * batch in the file, though the batch was not acknowledged: the file is cut back to its size
 * before that append (and synced), so the writer's next append, which continues from the last
 * durable entry, does not follow a torn line or repeat seqs. If even that fails, the appender
 * refuses every further append (AUDIT_STORE_BROKEN); reopening the chain repairs its tail.
 */
export async function openSegmentAppender(options: SegmentAppenderOptions): Promise<ChainAppender> {
  const { chainId, dir, fsync, segmentBytes } = options;
  const openFile = options.openFile ?? open;
  const appendFlags = O_WRONLY | O_APPEND | O_CREAT | (fsync ? O_DSYNC : 0);
  const syncAfterWrite = fsync && O_DSYNC === 0;
  await mkdir(dir, { recursive: true });
  const release = await acquireChainLock(join(dir, LOCK_FILE), chainId);
  try {
    const repaired: TornTailRepair[] = [];
    // The last segment with any entry holds the head; empty ones come from a crash right after a roll.
    let lastEntries: StoredRecord[] = [];
    let current: string | undefined;
    for (let i = options.segments.length - 1; i >= 0; i--) {
      const file = options.segments[i]!;
      lastEntries = await loadForAppend(file, dir, repaired, options.logger);
      current = file;
      if (lastEntries.length > 0) break;
    }
    const checkpoints = await loadForAppend(join(dir, CHECKPOINTS_FILE), dir, repaired, options.logger);
    const state = headState(chainId, lastEntries, checkpoints, options.recentEventIds);
    if (repaired.length > 0) state.repaired = repaired;
    let handle: FileHandle | undefined = current ? await openFile(current, appendFlags) : undefined;
    let size = current ? (await stat(current)).size : 0;
    let cpHandle: FileHandle | undefined;
    let cpSize = 0;
    let closed = false;
    let broken: HubError | undefined;

    /** Appends `data` at `at` (the file's size) durably; on failure cuts the file back to `at`. */
    const write = async (h: FileHandle, data: Buffer, at: number, file: string) => {
      try {
        // A regular file takes the whole buffer unless the disk fails; a short count is continued.
        for (let done = 0; done < data.length; ) {
          const { bytesWritten } = await h.write(data, done, data.length - done);
          if (bytesWritten === 0) throw new Error(`write to ${file} took no bytes`);
          done += bytesWritten;
        }
        if (syncAfterWrite) await h.sync();
      } catch (err) {
        try {
          // O_DSYNC covers writes, not the cut: that is synced on its own.
          await h.truncate(at);
          if (fsync) await h.sync();
        } catch (undo) {
          broken = new HubError('AUDIT_STORE_BROKEN', `a failed append to ${file} could not be undone`, {
            cause: undo,
            where: { file },
            hint: 'fix the disk, then restart: opening the chain cuts its torn tail',
          });
        }
        throw err;
      }
    };
    const ensureOpen = () => {
      if (closed)
        throw new HubError('AUDIT_STORE_CLOSED', 'chain appender is closed', { where: { file: dir } });
      if (broken) throw broken;
    };
    return {
      chainId,
      state,
      async append(entries: AuditEntry[], lines?: Buffer) {
        ensureOpen();
        if (entries.length === 0) return;
        // The writer's lines (canonical text + hash); without them, each entry as JSON.stringify writes it.
        const data = lines ?? Buffer.from(entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
        const bytes = data.length;
        if (!handle || (size > 0 && size + bytes > segmentBytes)) {
          await handle?.close();
          current = join(dir, segmentName(entries[0]!.seq));
          handle = await openFile(current, appendFlags);
          size = 0;
          if (fsync) await fsyncDir(dir);
        }
        await write(handle, data, size, current!);
        size += bytes;
      },
      async appendCheckpoint(cp: Checkpoint) {
        ensureOpen();
        const file = join(dir, CHECKPOINTS_FILE);
        if (!cpHandle) {
          cpHandle = await openFile(file, appendFlags);
          cpSize = (await cpHandle.stat()).size;
          if (fsync) await fsyncDir(dir);
        }
        const line = Buffer.from(`${JSON.stringify(cp)}\n`);
        await write(cpHandle, line, cpSize, file);
        cpSize += line.length;
      },
      async close() {
        if (closed) return;
        closed = true;
        try {
          await handle?.close();
          await cpHandle?.close();
        } finally {
          await release();
        }
      },
    };
  } catch (err) {
    await release();
    throw err;
  }
}

function headState(
  id: string,
  entries: StoredRecord[],
  checkpoints: StoredRecord[],
  recent: number,
): ChainState {
  const validEntry = (r: StoredRecord): AuditEntry => {
    const parsed = auditEntrySchema.safeParse(r.value);
    if (!parsed.success) {
      throw new HubError('AUDIT_SEGMENT_CORRUPT', `entry is malformed: ${parsed.error.issues[0]?.message}`, {
        where: { file: r.file, line: r.line, field: parsed.error.issues[0]?.path.join('.') ?? '' },
        hint: 'run `tributary audit verify`; the audit never appends to a damaged chain',
      });
    }
    return parsed.data;
  };
  const last = entries.at(-1);
  const lastEntry = last ? validEntry(last) : undefined;
  if (last && lastEntry && entryHash(lastEntry) !== lastEntry.hash) {
    throw new HubError(
      'AUDIT_CHAIN_DAMAGED',
      'last entry does not match its hash; refusing to extend the chain',
      {
        where: { file: last.file, line: last.line },
        hint: 'run `tributary audit verify` to locate the damage',
      },
    );
  }
  const lastCp = checkpoints.at(-1);
  const cp = lastCp ? checkpointSchema.safeParse(lastCp.value) : undefined;
  if (cp && !cp.success) {
    throw new HubError('AUDIT_SEGMENT_CORRUPT', 'checkpoint is malformed', {
      where: { file: lastCp!.file, line: lastCp!.line },
    });
  }
  return {
    seq: lastEntry?.seq ?? 0,
    hash: lastEntry?.hash ?? genesisHash(id),
    lastSource: lastEntry?.source ?? null,
    lastCheckpoint: cp?.data ?? null,
    recentEventIds: entries.slice(-recent).map((r) => validEntry(r).eventId),
  };
}
