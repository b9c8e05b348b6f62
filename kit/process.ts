import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Process helpers for the kit's background services (brokers, redis, slapd): start detached
 * with output in a file, check liveness by pid (surviving the CLI that started them), stop
 * with SIGTERM then SIGKILL after a bounded wait.
 */

/**
 * True when `pid` runs and is not a zombie. With `marker`, the command line must also contain
 * it, so a recycled pid of an unrelated process does not count as ours.
 */
export function isProcessAlive(pid: number | undefined, marker?: string): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: exists but belongs to another user, so it is not one of ours.
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    if (marker && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) return false;
  } catch {
    // No /proc (macOS): kill(pid, 0) is all we can know.
  }
  return true;
}

export interface DetachedSpawn {
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  outputFile: string;
}

/** Starts a process in its own session that outlives this one; returns its pid. */
export function spawnDetached(options: DetachedSpawn): Promise<number> {
  const fd = openSync(options.outputFile, 'a');
  try {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => {
        child.unref();
        resolve(child.pid ?? -1);
      });
    });
  } finally {
    closeSync(fd);
  }
}

/** Waits until `pid` is gone; false if it still runs after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/**
 * Stops a process: `signal` (SIGTERM by default) then SIGKILL when it has not exited after
 * `graceMs`. Returns how it ended. A pid that is already gone is fine.
 */
export async function stopProcess(
  pid: number,
  options: { graceMs?: number; signal?: NodeJS.Signals } = {},
): Promise<'not-running' | 'stopped' | 'killed'> {
  if (!isProcessAlive(pid)) return 'not-running';
  try {
    process.kill(pid, options.signal ?? 'SIGTERM');
  } catch {
    return 'not-running';
  }
  if (await waitForExit(pid, options.graceMs ?? 30_000)) return 'stopped';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  await waitForExit(pid, 10_000);
  return 'killed';
}

/** The last `count` lines of a text file ('' when it does not exist). Reads at most 1 MiB. */
export async function lastLinesOf(file: string, count: number): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, 1024 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').replace(/\n$/, '').split('\n');
    return lines.slice(-count).join('\n');
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}

/** Calls `onText` with text appended to `file` until `signal` aborts (like `tail -f`). */
export async function followFile(
  file: string,
  onText: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  let position = (await stat(file).catch(() => ({ size: 0 }))).size;
  while (!signal.aborted) {
    const size = (await stat(file).catch(() => ({ size: 0 }))).size;
    if (size < position) position = 0; // truncated or rotated
    if (size > position) {
      const handle = await open(file, 'r');
      try {
        const buffer = Buffer.alloc(size - position);
        await handle.read(buffer, 0, buffer.length, position);
        position = size;
        onText(buffer.toString('utf8'));
      } finally {
        await handle.close();
      }
    }
    await sleep(250, undefined, { signal }).catch(() => undefined);
  }
}
