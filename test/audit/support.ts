import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openChainWriter } from '../../audit/chain-writer.ts';
import type { ActionRecord } from '../../audit/entry.ts';
import { type AuditKeyRing, generateAuditKeyFile, parseAuditKeys } from '../../audit/keys.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';

/** A fresh temp folder; remove it with `cleanup()`. */
export async function tempDir(
  prefix = 'tributary-audit-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A key ring made in memory (and its file JSON). */
export function makeKeys(): { keys: AuditKeyRing; json: string } {
  const json = JSON.stringify(generateAuditKeyFile({ development: true }));
  return { keys: parseAuditKeys(json, 'test'), json };
}

/** An action as the consumer would hand it over, at a given source offset. */
export function action(offset: number, overrides: Partial<ActionRecord> = {}): ActionRecord {
  return {
    eventId: randomUUID(),
    time: Date.UTC(2026, 0, 1) + offset * 1000,
    component: 'connector.crm',
    correlationId: null,
    action: 'connector.sync.batch',
    actor: `user-${offset % 3}`,
    resource: 'crm.contact',
    outcome: 'succeeded',
    argsDigest: null,
    subjectId: null,
    details: { count: String(offset), note: `secret-note-${offset}` },
    source: { topic: 'hub.actions', partition: 0, offset: String(offset) },
    ...overrides,
  };
}

/** Writes `count` entries to chain 0 in batches of `batch`, with a checkpoint every `every` entries. */
export async function writeChain(
  dir: string,
  keys: AuditKeyRing,
  count: number,
  options: { batch?: number; every?: number; chain?: string; subjectOf?: (i: number) => string | null } = {},
): Promise<void> {
  const store = createSegmentStore({ dir, fsync: false, segmentBytes: 64 * 1024 });
  const subjectKeys = await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys);
  const writer = await openChainWriter(store, options.chain ?? '0', {
    keys,
    subjectKeys,
    checkpointEvery: options.every ?? 10,
    checkpointIntervalMs: 3_600_000,
  });
  const batch = options.batch ?? 5;
  for (let i = 0; i < count; i += batch) {
    const records = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      records.push(action(j, { subjectId: options.subjectOf?.(j) ?? null }));
    }
    await writer.append(records);
  }
  await writer.close();
}

/** All JSON lines of a chain, as files in order, to tamper with in tests. */
export async function chainFiles(dir: string, chain = '0'): Promise<string[]> {
  const cdir = join(dir, `chain-${chain}`);
  return (await readdir(cdir))
    .filter((n) => n.startsWith('segment-'))
    .sort()
    .map((n) => join(cdir, n));
}

/** Finds the file and line holding entry `seq`. */
export async function locate(dir: string, seq: number, chain = '0'): Promise<{ file: string; line: number }> {
  for (const file of await chainFiles(dir, chain)) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    const i = lines.findIndex((l) => l !== '' && JSON.parse(l).seq === seq);
    if (i >= 0) return { file, line: i + 1 };
  }
  throw new Error(`seq ${seq} not found`);
}

/** Rewrites one line of a file through `edit` (return null to delete the line). */
export async function editLine(
  file: string,
  line: number,
  edit: (text: string) => string | null,
): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const out = edit(lines[line - 1]!);
  if (out === null) lines.splice(line - 1, 1);
  else lines[line - 1] = out;
  await writeFile(file, lines.join('\n'));
}
