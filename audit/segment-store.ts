import { type FileHandle, mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { HubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import {
  type AuditEntry,
  auditEntrySchema,
  type Checkpoint,
  checkpointSchema,
  entryHash,
  genesisHash,
} from './entry.ts';
import { fsyncDir } from './fs-util.ts';
import type { AuditStore, ChainAppender, ChainState, StoredRecord, TornTailRepair } from './store.ts';

/**
 * The default audit store: per chain a folder `chain-<id>/` of append-only JSON-lines segment
 * files `segment-<first seq>.jsonl`, plus `checkpoints.jsonl`. Each batch is one write and one
 * fsync. A crash mid-write leaves a last line without its newline (a torn tail); opening the
 * chain for appending cuts it off and keeps the cut bytes in `torn-<time>.cut` next to it,
 * because those entries were never acknowledged to Kafka and are read again. Anything else that
 * does not parse is corruption: the store refuses, naming file and line, and writes nothing.
 */

export const segmentStoreConfigSchema = z.object({
  dir: z.string().describe('Folder holding one sub-folder per chain'),
  fsync: z
    .boolean()
    .default(true)
    .describe('fsync every batch before acknowledging it (turn off only in tests)'),
  segmentBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024)
    .describe('Start a new segment file once the current one is this large'),
  recentEventIds: z
    .number()
    .int()
    .nonnegative()
    .default(1000)
    .describe('Event ids remembered to drop duplicates'),
});
export type SegmentStoreConfig = z.input<typeof segmentStoreConfigSchema>;

const segmentName = (firstSeq: number) => `segment-${String(firstSeq).padStart(12, '0')}.jsonl`;
const CHECKPOINTS = 'checkpoints.jsonl';

/** Creates the segment-file store (no I/O until used). */
export function createSegmentStore(config: SegmentStoreConfig, logger?: Logger): AuditStore {
  const { dir, fsync, segmentBytes, recentEventIds } = segmentStoreConfigSchema.parse(config);
  const chainDir = (id: string) => join(dir, `chain-${id}`);

  async function segments(id: string): Promise<string[]> {
    try {
      const names = await readdir(chainDir(id));
      return names
        .filter((n) => /^segment-\d{12}\.jsonl$/.test(n))
        .sort()
        .map((n) => join(chainDir(id), n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async function* readFiles(files: string[]): AsyncIterable<StoredRecord> {
    for (const [i, file] of files.entries()) {
      const { records, torn } = parseLines(file, await readOrEmpty(file));
      yield* records;
      if (torn) {
        const last = i === files.length - 1;
        throw new HubError(
          last ? 'AUDIT_SEGMENT_TORN' : 'AUDIT_SEGMENT_CORRUPT',
          last
            ? 'last line is incomplete (a crash during a write)'
            : 'line is incomplete in the middle of the chain (not the last segment)',
          {
            where: { file, line: torn.line },
            hint: last
              ? '`tributary audit run` cuts it off and keeps the cut bytes in a torn-*.cut file'
              : '',
          },
        );
      }
    }
  }

  return {
    location: dir,
    async chainIds() {
      try {
        const names = await readdir(dir);
        return names
          .filter((n) => n.startsWith('chain-'))
          .map((n) => n.slice('chain-'.length))
          .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    },
    readEntries: (id) =>
      (async function* () {
        yield* readFiles(await segments(id));
      })(),
    readCheckpoints: (id) => readFiles([join(chainDir(id), CHECKPOINTS)]),
    async openAppender(id) {
      const cdir = chainDir(id);
      await mkdir(cdir, { recursive: true });
      const repaired: TornTailRepair[] = [];
      const files = await segments(id);
      // The last segment with any entry holds the head; empty ones come from a crash right after a roll.
      let lastEntries: StoredRecord[] = [];
      let current: string | undefined;
      for (let i = files.length - 1; i >= 0; i--) {
        const file = files[i]!;
        lastEntries = await loadForAppend(file, cdir, repaired, logger);
        current = file;
        if (lastEntries.length > 0) break;
      }
      const checkpoints = await loadForAppend(join(cdir, CHECKPOINTS), cdir, repaired, logger);
      const state = headState(id, lastEntries, checkpoints, recentEventIds);
      if (repaired.length > 0) state.repaired = repaired;
      let handle: FileHandle | undefined = current ? await open(current, 'a') : undefined;
      let size = current ? (await stat(current)).size : 0;
      let cpHandle: FileHandle | undefined;
      let closed = false;

      const write = async (h: FileHandle, text: string) => {
        await h.appendFile(text, 'utf8');
        if (fsync) await h.sync();
      };
      const appender: ChainAppender = {
        chainId: id,
        state,
        async append(entries: AuditEntry[]) {
          if (closed)
            throw new HubError('AUDIT_STORE_CLOSED', 'chain appender is closed', { where: { file: cdir } });
          if (entries.length === 0) return;
          const text = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
          const bytes = Buffer.byteLength(text);
          if (!handle || (size > 0 && size + bytes > segmentBytes)) {
            await handle?.close();
            handle = await open(join(cdir, segmentName(entries[0]!.seq)), 'a');
            size = 0;
            if (fsync) await fsyncDir(cdir);
          }
          await write(handle, text);
          size += bytes;
        },
        async appendCheckpoint(cp: Checkpoint) {
          if (closed)
            throw new HubError('AUDIT_STORE_CLOSED', 'chain appender is closed', { where: { file: cdir } });
          if (!cpHandle) {
            cpHandle = await open(join(cdir, CHECKPOINTS), 'a');
            if (fsync) await fsyncDir(cdir);
          }
          await write(cpHandle, `${JSON.stringify(cp)}\n`);
        },
        async close() {
          if (closed) return;
          closed = true;
          await handle?.close();
          await cpHandle?.close();
        },
      };
      return appender;
    },
  };
}

async function readOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Splits JSON lines; a bad line that ends in a newline is corruption, an unterminated last line is a torn tail. */
function parseLines(
  file: string,
  text: string,
): { records: StoredRecord[]; torn?: { line: number; bytes: number } } {
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  const records = lines.map((raw, i) => {
    try {
      return { value: JSON.parse(raw) as unknown, file, line: i + 1 };
    } catch {
      throw new HubError('AUDIT_SEGMENT_CORRUPT', 'line is not valid JSON (corrupted in place)', {
        where: { file, line: i + 1 },
        hint: 'restore the file from a backup or a replica; the audit never rewrites a chain',
      });
    }
  });
  return tail === ''
    ? { records }
    : { records, torn: { line: lines.length + 1, bytes: Buffer.byteLength(tail) } };
}

/** Reads a file the appender will continue; cuts a torn tail after saving it, refuses on corruption. */
async function loadForAppend(
  file: string,
  cdir: string,
  repaired: TornTailRepair[],
  logger?: Logger,
): Promise<StoredRecord[]> {
  const text = await readOrEmpty(file);
  const { records, torn } = parseLines(file, text);
  if (torn) {
    const savedTo = join(cdir, `torn-${new Date().toISOString().replaceAll(':', '-')}.cut`);
    const saved = await open(savedTo, 'wx', 0o600);
    await saved.writeFile(text.slice(text.length - torn.bytes), 'utf8');
    await saved.sync();
    await saved.close();
    const h = await open(file, 'r+');
    await h.truncate(Buffer.byteLength(text) - torn.bytes);
    await h.sync();
    await h.close();
    await fsyncDir(cdir);
    const repair = { file, line: torn.line, bytes: torn.bytes, savedTo };
    repaired.push(repair);
    logger?.warn(
      repair,
      'audit chain had a torn last line (crash during a write); cut it off and kept a copy',
    );
  }
  return records;
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
