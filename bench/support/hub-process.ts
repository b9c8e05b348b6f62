import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRedisKit, freePort } from '../../kit/redis.ts';

/**
 * README's first command as a child process: `tributary up` with every component and the demo
 * systems, on the benchmark's broker, in a scratch home, with its own Redis (so the benchmark can
 * issue an ingress token for the same session store). Memory is read from /proc.
 */

const cli = join(import.meta.dirname, '..', '..', 'cli', 'main.ts');
const run = promisify(execFile);

export interface HubProcess {
  pid: number;
  /** Origin of the HTTP ingress (POST /v1/events/{type}). */
  ingressUrl: string;
  /** Components the hub said it runs. */
  components: string[];
  topicPrefix: string;
  /** An ingress access token for a user with the admin role. */
  token(): Promise<string>;
  /** VmRSS and VmHWM (peak) of the hub process, MiB. */
  memory(): Promise<{ rssMiB: number; peakMiB: number }>;
  stop(): Promise<void>;
}

export async function startHubProcess(options: {
  brokers: string[];
  readyTimeoutMs?: number;
}): Promise<HubProcess> {
  const home = await mkdtemp(join(tmpdir(), 'tributary-bench-up-'));
  const redis = createRedisKit();
  const { url: redisUrl } = await redis.start();
  const ingressPort = await freePort();
  const topicPrefix = `bench-${randomBytes(3).toString('hex')}.`;
  const env = {
    ...process.env,
    KAFKA_BROKERS: options.brokers.join(','),
    REDIS_URL: redisUrl,
    TRIBUTARY_HOME: home,
    TRIBUTARY_HTTP_PORT: '0',
    TRIBUTARY_TOPIC_PREFIX: topicPrefix,
    TRIBUTARY_LOG_LEVEL: 'warn',
    TRIBUTARY__INGRESS__PORT: String(ingressPort),
    TRIBUTARY__INGRESS__CALLS_PER_WINDOW: '100000000',
    TRIBUTARY__MCP_BRIDGE__PORT: String(await freePort()),
  };
  const child: ChildProcess = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', cli, 'up'], {
    cwd: home,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const cleanup = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await redis.stop();
    await rm(home, { recursive: true, force: true });
  };
  try {
    const ready = await new Promise<RegExpExecArray>((done, fail) => {
      const timer = setInterval(() => {
        const match = /^ready: tributary \S+ instance \S+ runs (.+)$/m.exec(stdout);
        if (match && /^ {2}HTTP ingress: +(http:\/\/\S+?)\/v1\/events/m.test(stdout)) {
          clearInterval(timer);
          done(match);
        }
      }, 200);
      const limit = setTimeout(() => {
        clearInterval(timer);
        fail(
          new Error(`tributary up was not ready after ${options.readyTimeoutMs ?? 180_000} ms:\n${stderr}`),
        );
      }, options.readyTimeoutMs ?? 180_000);
      exited.then((code) => {
        clearInterval(timer);
        clearTimeout(limit);
        fail(new Error(`tributary up exited with ${code} before it was ready:\n${stderr}`));
      });
    });
    const ingressUrl = /^ {2}HTTP ingress: +(http:\/\/\S+?)\/v1\/events/m.exec(stdout)?.[1] ?? '';
    const pid = child.pid ?? -1;
    return {
      pid,
      ingressUrl,
      components: (ready[1] ?? '').split(', '),
      topicPrefix,
      async token() {
        const { stdout: out } = await run(
          process.execPath,
          [
            '--disable-warning=ExperimentalWarning',
            cli,
            'ingress',
            'token',
            '--user',
            'bench',
            '--url',
            ingressUrl,
            '--ttl',
            '3600',
          ],
          { env, cwd: home },
        );
        return out.trim();
      },
      async memory() {
        const status = await readFile(`/proc/${pid}/status`, 'utf8');
        const kib = (field: string) =>
          Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
        return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
