import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HubError } from '../core/errors.ts';
import { freePorts } from './ports.ts';

/**
 * A throwaway Redis for tests and the embedded default: Debian's `redis-server` on a free port
 * in a temporary folder, as a child process. Nothing is persisted (no RDB, no AOF).
 * The process helpers below (free port, Debian install, child stop) are shared with kit/ldap.ts.
 */

const execFileAsync = promisify(execFile);

/** A free TCP port on 127.0.0.1, picked as kit/ports.ts picks the brokers' (free now, not reserved). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export async function portAcceptsConnections(port: number): Promise<boolean> {
  return await new Promise((done) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/** Finds an executable on PATH (plus the sbin folders Debian puts daemons in). */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin'];
  return dirs
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find((candidate) => existsSync(candidate));
}

/**
 * Installs Debian packages when an executable is missing (as root, serialised by a lock), saying
 * so on stderr. Throws KIT_PACKAGE_MISSING with the apt-get line when it cannot install.
 */
export async function ensureDebianPackages(executable: string, packages: string[]): Promise<string> {
  const found = findExecutable(executable);
  if (found) return found;
  const line = `apt-get install -y ${packages.join(' ')}`;
  const canInstall = process.getuid?.() === 0 && findExecutable('apt-get') && findExecutable('flock');
  if (!canInstall) {
    throw new HubError('KIT_PACKAGE_MISSING', `${executable} is not installed`, {
      hint: `install it as root: ${line}`,
    });
  }
  process.stderr.write(
    `tributary: ${executable} is missing; installing Debian packages ${packages.join(', ')}\n`,
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // The same lock scripts/system-deps.sh takes, so parallel installs never collide.
  const aptLock = join(process.env.TMPDIR ?? tmpdir(), 'tributary-apt.lock');
  try {
    await execFileAsync('flock', [aptLock, 'apt-get', 'install', '-y', '-q', ...packages], {
      env,
      timeout: 600_000,
    }).catch(async () => {
      // The package lists may be missing on a fresh machine: refresh them once, then retry.
      await execFileAsync('flock', [aptLock, 'apt-get', 'update', '-q'], { env, timeout: 600_000 });
      await execFileAsync('flock', [aptLock, 'apt-get', 'install', '-y', '-q', ...packages], {
        env,
        timeout: 600_000,
      });
    });
  } catch (err) {
    throw new HubError('KIT_PACKAGE_INSTALL_FAILED', `could not install ${packages.join(', ')}`, {
      hint: `run as root: ${line}`,
      cause: err,
    });
  }
  const installed = findExecutable(executable);
  if (!installed) throw new HubError('KIT_PACKAGE_MISSING', `${executable} still missing after installing`);
  process.stderr.write(`tributary: installed ${packages.join(', ')}\n`);
  return installed;
}

/** A child process plus the tail of its output, for error messages that show why it died. */
export interface TrackedChild {
  child: ChildProcess;
  output(): string;
  exited(): boolean;
}

/**
 * On Linux, util-linux's `setpriv --pdeathsig KILL` (then exec of the daemon, same pid) has the
 * kernel kill the daemon when the process that started it dies, also by SIGKILL or a signal
 * Node does not handle, where no exit hook runs. Elsewhere only the exit hook below applies.
 */
let setpriv: string | null | undefined;
const findSetpriv = () => {
  setpriv ??= (process.platform === 'linux' && findExecutable('setpriv')) || null;
  return setpriv;
};

/**
 * Spawns a daemon in the foreground; it is killed when this Node process exits, and on Linux
 * also when it dies without exiting (a killed test worker or hub leaves no daemon behind).
 */
export function spawnTracked(command: string, args: string[], cwd: string): TrackedChild {
  const wrapper = findSetpriv();
  const [file, argv] = wrapper ? [wrapper, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
  const child = spawn(file, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let hasExited = false;
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => {
    hasExited = true;
    process.removeListener('exit', killOnExit);
  });
  child.once('error', (err) => keep(Buffer.from(String(err))));
  return { child, output: () => tail, exited: () => hasExited };
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. */
export async function stopChild(tracked: TrackedChild, graceMs = 5000): Promise<void> {
  if (tracked.exited() || tracked.child.exitCode !== null) return;
  const gone = new Promise<void>((done) => tracked.child.once('exit', () => done()));
  tracked.child.kill('SIGTERM');
  const timer = setTimeout(() => tracked.child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** Polls `probe` until it returns true, the child dies, or the deadline passes. */
export async function waitUntilReady(
  what: string,
  tracked: TrackedChild,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (tracked.exited()) {
      throw new HubError('KIT_START_FAILED', `${what} exited during start-up`, {
        hint: `its output was:\n${tracked.output()}`,
      });
    }
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new HubError('KIT_START_TIMEOUT', `${what} did not become ready within ${timeoutMs} ms`, {
    retriable: true,
    hint: `its output was:\n${tracked.output()}`,
  });
}

export interface RedisKit {
  /** Starts redis-server (idempotent); resolves with its URL once it answers. */
  start(): Promise<{ url: string; port: number }>;
  /** Stops the server and removes its folder (safe to call twice). */
  stop(): Promise<void>;
  readonly url: string | undefined;
}

/** Builds a local Redis on a free port; `start()` installs `redis-server` when missing. */
export function createRedisKit(options: { startTimeoutMs?: number } = {}): RedisKit {
  let tracked: TrackedChild | undefined;
  let dir: string | undefined;
  let url: string | undefined;
  let starting: Promise<{ url: string; port: number }> | undefined;

  async function boot(): Promise<{ url: string; port: number }> {
    const executable = await ensureDebianPackages('redis-server', ['redis-server']);
    dir = await mkdtemp(join(tmpdir(), 'tributary-redis-'));
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      // Config on the command line: no file to write, nothing persisted, loopback only.
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ];
      tracked = spawnTracked(executable, [...args, '--daemonize', 'no', '--protected-mode', 'yes'], dir);
      try {
        await waitUntilReady(
          `redis-server on port ${port}`,
          tracked,
          () => portAcceptsConnections(port),
          options.startTimeoutMs ?? 15_000,
        );
        url = `redis://127.0.0.1:${port}`;
        return { url, port };
      } catch (err) {
        await stopChild(tracked);
        // Another process may have taken the port between probe and bind: try a new one.
        if (attempt >= 3) throw err;
      }
    }
  }

  return {
    get url() {
      return url;
    },
    start() {
      starting ??= boot();
      return starting;
    },
    async stop() {
      starting = undefined;
      url = undefined;
      if (tracked) await stopChild(tracked);
      tracked = undefined;
      if (dir) await rm(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}
