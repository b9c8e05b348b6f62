import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HubError } from '../core/errors.ts';

/** fsyncs a directory so a create/rename in it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces (or creates) a file so that a crash leaves either the old or the new content, never
 * half of it: write a temp file, fsync, rename over, fsync the directory.
 */
export async function writeFileAtomic(
  path: string,
  content: string,
  options: { mode?: number; exclusive?: boolean } = {},
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  if (options.exclusive && (await exists(path))) {
    throw new HubError('AUDIT_FILE_EXISTS', 'file already exists; refusing to overwrite it', {
      where: { file: path },
      hint: 'move it away first if you really mean to replace it',
    });
  }
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', options.mode ?? 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
}

/** True when the path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
