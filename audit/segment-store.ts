import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { HubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { lockOwner } from './chain-lock.ts';
import { auditEntrySchema, type SourcePosition } from './entry.ts';
import { openSegmentAppender } from './segment-appender.ts';
import { CHECKPOINTS_FILE, isSegmentName, LOCK_FILE, parseLines, readOrEmpty } from './segment-files.ts';
import type { AuditStore, StoredRecord } from './store.ts';

/**
 * The default audit store: per chain a folder `chain-<id>/` of append-only JSON-lines segment
 * files `segment-<first seq>.jsonl`, plus `checkpoints.jsonl`. Each batch is one durable write
 * (files opened O_DSYNC when `fsync` is on). A crash mid-write leaves a last line without its
 * newline (a torn tail); opening the chain for appending cuts it off and keeps the cut bytes in
 * `torn-<time>.cut` next to it, because those entries were never acknowledged to Kafka and are
 * read again. Anything else that does not parse is corruption: the store refuses, naming file
 * and line, and writes nothing.
 */

export const segmentStoreConfigSchema = z.object({
  dir: z.string().describe('Folder holding one sub-folder per chain'),
  fsync: z
    .boolean()
    .default(true)
    .describe(
      'make every batch durable before acknowledging it: files are opened O_DSYNC, so each write is synced (turn off only in tests)',
    ),
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

/** Creates the segment-file store (no I/O until used). */
export function createSegmentStore(config: SegmentStoreConfig, logger?: Logger): AuditStore {
  const { dir, fsync, segmentBytes, recentEventIds } = segmentStoreConfigSchema.parse(config);
  const chainDir = (id: string) => join(dir, `chain-${id}`);

  async function segments(id: string): Promise<string[]> {
    try {
      const names = await readdir(chainDir(id));
      return names
        .filter(isSegmentName)
        .sort()
        .map((n) => join(chainDir(id), n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async function chainIds(): Promise<string[]> {
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
    chainIds,
    readEntries: (id) =>
      (async function* () {
        yield* readFiles(await segments(id));
      })(),
    readCheckpoints: (id) => readFiles([join(chainDir(id), CHECKPOINTS_FILE)]),
    async openAppender(id) {
      return openSegmentAppender({
        chainId: id,
        dir: chainDir(id),
        segments: await segments(id),
        fsync,
        segmentBytes,
        recentEventIds,
        ...(logger ? { logger } : {}),
      });
    },
    async lastSourceOffsets() {
      // Only the newest non-empty segment of each chain is read; a torn last line does not count.
      const offsets = new Map<string, SourcePosition>();
      for (const id of await chainIds()) {
        const files = await segments(id);
        for (let i = files.length - 1; i >= 0; i--) {
          const { records } = parseLines(files[i]!, await readOrEmpty(files[i]!));
          const last = records.at(-1);
          if (!last) continue;
          const entry = auditEntrySchema.safeParse(last.value);
          if (!entry.success) {
            throw new HubError('AUDIT_SEGMENT_CORRUPT', 'last entry is malformed', {
              where: { file: last.file, line: last.line },
            });
          }
          const { source } = entry.data;
          offsets.set(`${source.topic}:${source.partition}`, source);
          break;
        }
      }
      return offsets;
    },
    async activeWriter(id) {
      const owner = await lockOwner(join(chainDir(id), LOCK_FILE));
      return owner ? `pid ${owner.pid} on ${owner.host}` : null;
    },
  };
}
