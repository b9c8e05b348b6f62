import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { HubError } from '../core/errors.ts';

/**
 * One writer per chain. Two writers on one chain would fork it (both link to the same head), so
 * an appender holds `<chain>/writer.lock` (pid and host) while open. A lock left by a process
 * that no longer runs on this host (a crash, SIGKILL) is taken over; a live one is refused with
 * AUDIT_CHAIN_LOCKED (retriable: a rebalance hands the partition over once the old owner closes).
 */

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** The live process holding the lock, or null when it is free or its owner is gone. */
export async function lockOwner(path: string): Promise<LockOwner | null> {
  let owner: LockOwner;
  try {
    owner = JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // Half-written by a crash between create and write: nobody holds it.
    return null;
  }
  if (owner.host !== hostname()) return owner; // cannot probe another host: assume alive
  if (owner.pid === process.pid) return owner;
  try {
    process.kill(owner.pid, 0);
    return owner;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? owner : null;
  }
}

/** Takes the chain's writer lock; returns its release function. */
export async function acquireChainLock(path: string, chain: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(
        JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
      );
      await handle.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = await lockOwner(path);
      if (owner) {
        throw new HubError(
          'AUDIT_CHAIN_LOCKED',
          `chain ${chain} is being written by pid ${owner.pid} on ${owner.host}`,
          {
            retriable: true,
            where: { file: path, chain },
            hint: 'only one audit consumer may write a chain; wait for the other to stop',
          },
        );
      }
      await unlink(path).catch(() => {});
    }
  }
  throw new HubError('AUDIT_CHAIN_LOCKED', `could not take the writer lock of chain ${chain}`, {
    retriable: true,
    where: { file: path, chain },
  });
}
