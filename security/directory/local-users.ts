import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { HubError } from '../../core/errors.ts';
import type { Directory, DirectoryUser } from './directory.ts';
import { checkableCredentials } from './directory.ts';

/**
 * The embedded directory: a JSON users file with scrypt password hashes, for a hub without LDAP.
 * Hash format: `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`. Unknown users cost the same
 * scrypt work as known ones, and hashes are compared in constant time.
 */

const usersFileSchema = z.object({
  version: z.literal(1),
  users: z.array(
    z.object({
      name: z.string().min(1).describe('User name (the token subject)'),
      passwordHash: z.string().describe('scrypt$N$r$p$salt$hash'),
      groups: z.array(z.string()).default([]).describe('Group names, mapped to roles by the policy'),
    }),
  ),
});
export type UsersFile = z.infer<typeof usersFileSchema>;

const cost = { N: 16384, r: 8, p: 1, keyLength: 32 };

function scryptAsync(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  keyLength: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keyLength, { N, r, p, maxmem: 128 * N * r * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** Hashes a password with scrypt and a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, cost.N, cost.r, cost.p, cost.keyLength);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Checks a password against a stored hash in constant time; false for malformed hashes. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const N = Number(n);
  if (!Number.isInteger(N) || N > 1 << 20 || expected.length < 16) return false;
  const actual = await scryptAsync(
    password,
    Buffer.from(salt, 'base64'),
    N,
    Number(r),
    Number(p),
    expected.length,
  );
  return timingSafeEqual(actual, expected);
}

/** Reads a users file; an absent file is an empty one. */
export async function readUsersFile(path: string): Promise<UsersFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, users: [] };
    throw new HubError('CONFIG_INVALID', `cannot read the users file ${path}`, { cause: err });
  }
  const parsed = usersFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new HubError('CONFIG_INVALID', `users file ${path} is malformed: ${parsed.error.message}`, {
      where: { file: path },
    });
  }
  return parsed.data;
}

/** Adds or replaces a user in the users file (written atomically, mode 0600). */
export async function upsertLocalUser(
  path: string,
  name: string,
  password: string,
  groups: string[],
): Promise<void> {
  const file = await readUsersFile(path);
  const entry = { name, passwordHash: await hashPassword(password), groups };
  const users = file.users.filter((u) => u.name !== name).concat(entry);
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify({ version: 1, users }, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}

/** A directory backed by a users file; the file is re-read on each login so edits apply at once. */
export function createLocalUsersDirectory(path: string): Directory {
  // Same cost as a real check, so response time does not reveal whether a user exists.
  const dummyHash = hashPassword(randomBytes(16).toString('hex'));
  return {
    async authenticate(username, password): Promise<DirectoryUser | undefined> {
      if (!checkableCredentials(username, password)) return undefined;
      const file = await readUsersFile(path);
      const user = file.users.find((u) => u.name === username);
      const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash));
      return user && ok ? { name: user.name, groups: user.groups } : undefined;
    },
  };
}
