import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

/** README's first command in miniature: `tributary up` as a child process, ready, then SIGTERM. */
const root = resolve(import.meta.dirname, '..', '..');
const cli = join(root, 'bin', 'tributary');
const temps: string[] = [];
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

describe('tributary up (child process)', () => {
  it('prints where to connect once ready, answers /readyz, and exits 0 on SIGTERM', async () => {
    const { env: kafkaEnv } = testKafka();
    const home = await mkdtemp(join(tmpdir(), 'tributary-up-'));
    temps.push(home);
    const child = spawn(cli, ['up', '--only', 'audit', '--no-demo'], {
      cwd: home,
      env: {
        ...kafkaEnv,
        TRIBUTARY_HOME: home,
        TRIBUTARY_HTTP_PORT: '0',
        TRIBUTARY_TOPIC_PREFIX: `${uniqueName('up')}.`,
        TRIBUTARY__AUDIT__GROUP_ID: uniqueName('up-audit'),
        TRIBUTARY_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

    const healthUrl = await new Promise<string>((done, fail) => {
      const timer = setInterval(() => {
        const match = /^ {2}health\/metrics: +(http:\/\/\S+)\/healthz/m.exec(stdout);
        if (/^ready: /m.test(stdout) && match?.[1]) {
          clearInterval(timer);
          done(match[1]);
        }
      }, 100);
      exited.then((code) => {
        clearInterval(timer);
        fail(new Error(`tributary up exited with ${code} before it was ready:\n${stderr}`));
      });
    });
    expect(stdout).toMatch(/^ {2}Kafka brokers: +\S+ \(KAFKA_BROKERS\)$/m);
    expect(stdout).toMatch(/^ {2}audit store: +\S+/m);
    // The embedded default makes a development audit key and says so loudly.
    expect(stderr).toContain('*** DEVELOPMENT AUDIT KEY FILE ***');

    const ready = await fetch(`${healthUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', reasons: [] });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('stopped cleanly');
  });
});
