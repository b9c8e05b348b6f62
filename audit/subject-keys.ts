import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, readFile, rmdir, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { HubError } from '../core/errors.ts';
import { sha256Hex } from './entry.ts';
import { open, seal } from './entry-crypto.ts';
import { writeFileAtomic } from './fs-util.ts';
import { type AuditKeyRing, encryptionKey } from './keys.ts';

/**
 * Per-subject data keys (crypto-shredding). Entries about a data subject are encrypted under
 * that subject's own random key, stored wrapped (AES-256-GCM) by the master key. Forgetting the
 * subject destroys the wrapped key; the entries stay in the chain (so it still verifies) but
 * nobody can decrypt them any more. Subjects are indexed by SHA-256 of their id, so the file
 * does not list plain subject ids.
 */

const fileSchema = z.object({
  version: z.literal(1),
  subjects: z.array(
    z.object({
      ref: z.string(),
      id: z.string(),
      wrappedBy: z.string(),
      nonce: z.string(),
      ciphertext: z.string(),
      tag: z.string(),
      createdAt: z.string(),
    }),
  ),
  forgotten: z.array(z.object({ id: z.string(), forgottenAt: z.string() })),
});
type SubjectKeyFile = z.infer<typeof fileSchema>;

export type SubjectKeyLookup = { key: Buffer } | { forgottenAt: string } | undefined;

export interface SubjectKeyStore {
  /** Data keys for these subjects, creating and durably storing the missing ones first. */
  keysFor(subjectIds: string[]): Promise<Map<string, { id: string; key: Buffer }>>;
  /** A data key by its id; `{ forgottenAt }` once the subject was forgotten. */
  keyById(id: string): SubjectKeyLookup;
  /** Destroys the subject's key; returns its id, or undefined when the subject has none. */
  forget(subjectId: string, now?: Date): Promise<string | undefined>;
}

/** How many subject ids a store remembers the key entry of (a lookup past them hashes the id again). */
const SUBJECTS_REMEMBERED = 100_000;

const wrapAad = (id: string) => Buffer.from(`tributary.audit.subject-key:${id}`);

/** A subject key store in one JSON file (mode 0600), safe against a concurrent `forget` from another process. */
export async function openSubjectKeyFile(path: string, keys: AuditKeyRing): Promise<SubjectKeyStore> {
  let state: SubjectKeyFile = await readState(path);
  let stateMtime = versionOf(path);
  const cache = new Map<string, Buffer>();

  const refresh = async () => {
    const m = versionOf(path);
    if (m !== stateMtime) {
      state = await readState(path);
      stateMtime = m;
      const forgotten = new Set(state.forgotten.map((f) => f.id));
      for (const id of cache.keys()) if (forgotten.has(id)) cache.delete(id);
    }
  };

  // Subjects by ref, and by subject id as looked up (no SHA-256 per lookup); both are rebuilt
  // when the file's state changes (a key created or forgotten, here or by another process).
  type Stored = SubjectKeyFile['subjects'][number];
  let indexed: SubjectKeyFile | undefined;
  let byRef = new Map<string, Stored>();
  const bySubject = new Map<string, Stored>();
  const lookup = (subjectId: string): Stored | undefined => {
    if (indexed !== state) {
      indexed = state;
      byRef = new Map(state.subjects.map((s) => [s.ref, s]));
      bySubject.clear();
    }
    let entry = bySubject.get(subjectId);
    if (entry) return entry;
    entry = byRef.get(sha256Hex(subjectId));
    if (entry) {
      if (bySubject.size >= SUBJECTS_REMEMBERED) bySubject.clear();
      bySubject.set(subjectId, entry);
    }
    return entry;
  };

  const unwrap = (entry: SubjectKeyFile['subjects'][number]): Buffer => {
    const cached = cache.get(entry.id);
    if (cached) return cached;
    const key = open(encryptionKey(keys, entry.wrappedBy), entry, wrapAad(entry.id));
    cache.set(entry.id, key);
    return key;
  };

  // Read-merge-write under a lock so a `forget` made by another process is never undone.
  const update = async (change: (file: SubjectKeyFile) => void) => {
    await withLock(`${path}.lock`, async () => {
      const onDisk = await readState(path);
      change(onDisk);
      await writeFileAtomic(path, `${JSON.stringify(onDisk)}\n`, { mode: 0o600 });
      state = onDisk;
      stateMtime = versionOf(path);
    });
  };

  return {
    async keysFor(subjectIds) {
      await refresh();
      const missing: string[] = [];
      for (const subject of new Set(subjectIds)) if (!lookup(subject)) missing.push(subject);
      if (missing.length > 0) {
        await update((file) => {
          const present = new Set(file.subjects.map((s) => s.ref));
          for (const subject of missing) {
            const ref = sha256Hex(subject);
            if (present.has(ref)) continue;
            const id = `sk-${randomBytes(12).toString('hex')}`;
            const wrapped = seal(
              encryptionKey(keys, keys.currentEncryptionKeyId),
              randomBytes(32),
              wrapAad(id),
            );
            file.subjects.push({
              ref,
              id,
              wrappedBy: keys.currentEncryptionKeyId,
              ...wrapped,
              createdAt: new Date().toISOString(),
            });
          }
        });
      }
      const result = new Map<string, { id: string; key: Buffer }>();
      for (const subject of subjectIds) {
        if (result.has(subject)) continue;
        const entry = lookup(subject);
        if (!entry)
          throw new HubError('AUDIT_SUBJECT_KEY', 'subject key vanished while writing', {
            where: { file: path },
          });
        result.set(subject, { id: entry.id, key: unwrap(entry) });
      }
      return result;
    },
    keyById(id) {
      const entry = state.subjects.find((s) => s.id === id);
      if (entry) return { key: unwrap(entry) };
      const gone = state.forgotten.find((f) => f.id === id);
      return gone ? { forgottenAt: gone.forgottenAt } : undefined;
    },
    async forget(subjectId, now = new Date()) {
      const ref = sha256Hex(subjectId);
      let forgottenId: string | undefined;
      await update((file) => {
        const entry = file.subjects.find((s) => s.ref === ref);
        if (!entry) return;
        forgottenId = entry.id;
        file.subjects = file.subjects.filter((s) => s.ref !== ref);
        file.forgotten.push({ id: entry.id, forgottenAt: now.toISOString() });
      });
      if (forgottenId) cache.delete(forgottenId);
      return forgottenId;
    },
  };
}

/**
 * Identity of the file's current version: an atomic write makes a new inode. Answered at once:
 * every batch with a data subject checks whether another process forgot one meanwhile, and one
 * stat of a local file takes microseconds, while the same stat through the libuv pool kept the
 * chain waiting about 0.2 ms per batch.
 */
function versionOf(path: string): string {
  try {
    const s = statSync(path, { throwIfNoEntry: false });
    return s ? `${s.ino}:${s.mtimeMs}` : 'none';
  } catch {
    return 'none';
  }
}

async function ageOf(path: string): Promise<number> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return 0;
  }
}

async function readState(path: string): Promise<SubjectKeyFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, subjects: [], forgotten: [] };
    throw err;
  }
  const parsed = fileSchema.safeParse(safeJson(text));
  if (!parsed.success) {
    throw new HubError('AUDIT_SUBJECT_KEYS_INVALID', 'subject key file is unreadable or malformed', {
      where: { file: path },
      hint: 'restore it from backup; never delete it unless every subject is meant to be forgotten',
    });
  }
  return parsed.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A cross-process lock: mkdir is atomic; a lock older than 30 s is taken as left by a crash. */
async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await ageOf(lockDir);
      if (age > 30_000) await rmdir(lockDir).catch(() => {});
      else if (attempt > 200) {
        throw new HubError('AUDIT_LOCKED', 'subject key file is locked by another process', {
          retriable: true,
          where: { file: lockDir },
        });
      } else await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    await rmdir(lockDir).catch(() => {});
  }
}
