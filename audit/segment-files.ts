import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { fsyncDir } from './fs-util.ts';
import type { StoredRecord, TornTailRepair } from './store.ts';

/** Line-level reading of segment files shared by the store's readers and its appender. */

export const CHECKPOINTS_FILE = 'checkpoints.jsonl';
export const LOCK_FILE = 'writer.lock';
export const segmentName = (firstSeq: number) => `segment-${String(firstSeq).padStart(12, '0')}.jsonl`;
export const isSegmentName = (name: string) => /^segment-\d{12}\.jsonl$/.test(name);

export async function readOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Splits JSON lines; a bad line that ends in a newline is corruption, an unterminated last line is a torn tail. */
export function parseLines(
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
export async function loadForAppend(
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
