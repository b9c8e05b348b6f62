import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKafkaCommands } from '../../cli/commands/kafka.ts';
import { silentLogger } from '../../core/logger.ts';
import { type KafkaStatus, kafkaDown } from '../../kit/kafka/index.ts';
import { isPortFree } from '../../kit/ports.ts';
import { isProcessAlive } from '../../kit/process.ts';
import { createKafka, kafkaConfigSchema } from '../../platform/kafka.ts';
import { uniqueName } from '../support/names.ts';

/** Runs `tributary kafka <args>` in-process against a private TRIBUTARY_HOME; returns stdout. */
async function tributary(env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  const out: string[] = [];
  const program = new Command('tributary').exitOverride();
  registerKafkaCommands(program, { env, write: (t) => out.push(t), progress: () => {} });
  await program.parseAsync(['kafka', ...args], { from: 'user' });
  return out.join('');
}

/** A base port with its controller neighbour free, away from the usual Kafka ports. */
async function freeBasePort(): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    if ((await isPortFree(base)) && (await isPortFree(base + 1))) return base;
  }
}

describe('tributary kafka up | status | down (single node)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let basePort: number;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'tributary-kit-cli-'));
    env = { ...process.env, TRIBUTARY_HOME: home };
    basePort = await freeBasePort();
  });

  afterAll(async () => {
    await kafkaDown({ dataDir: join(home, 'kafka'), purge: true, graceMs: 10_000 });
    await rm(home, { recursive: true, force: true });
  });

  const status = async (): Promise<KafkaStatus> => JSON.parse(await tributary(env, 'status', '--json'));

  it('reports stopped before the first up', async () => {
    expect((await status()).state).toBe('stopped');
  });

  it('up twice leaves one running cluster with the same pids', async () => {
    const first = await tributary(env, 'up', '--port', String(basePort));
    expect(first).toContain(`running (1 node) at 127.0.0.1:${basePort}`);
    const pids = (await status()).nodes.map((n) => n.pid);
    expect(pids[0]).toBeGreaterThan(0);

    const second = await tributary(env, 'up');
    expect(second).toContain('already running');
    expect((await status()).nodes.map((n) => n.pid)).toEqual(pids);
  });

  it('status says it runs and where it listens', async () => {
    const s = await status();
    expect(s.state).toBe('running');
    expect(s.brokers).toEqual([`127.0.0.1:${basePort}`]);
    expect(s.nodes[0]).toMatchObject({
      id: 1,
      alive: true,
      listening: true,
      port: basePort,
      controllerPort: basePort + 1,
    });
    expect(await tributary(env, 'status')).toContain(`running (1/1 nodes)`);
  });

  it('serves producers and consumer groups', async () => {
    const kafka = createKafka(
      kafkaConfigSchema.parse({ brokers: [`127.0.0.1:${basePort}`] }),
      silentLogger(),
    );
    const topic = uniqueName('kit-cli');
    const producer = kafka.producer({ idempotent: true });
    const consumer = kafka.consumer({ groupId: uniqueName('kit-cli-group') });
    try {
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'hello through the kit' }] });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<string>((resolve) => {
        void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
      });
      expect(received).toBe('hello through the kit');
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  it('logs prints the broker log', async () => {
    const logs = await tributary(env, 'logs', '--lines', '50');
    expect(logs.split('\n').length).toBeGreaterThan(10);
    expect(logs).toMatch(/INFO/);
  });

  it('down stops it and status says stopped', async () => {
    const pid = (await status()).nodes[0]?.pid ?? 0;
    expect(await tributary(env, 'down')).toContain('Kafka stopped (1 node)');
    expect(isProcessAlive(pid)).toBe(false);
    const s = await status();
    expect(s.state).toBe('stopped');
    expect(s.nodes[0]?.alive).toBe(false);
    expect(await tributary(env, 'down')).toContain('was not running');
  });

  it('up after down starts the same cluster again with its data', async () => {
    const before = await status();
    await tributary(env, 'up');
    const after = await status();
    expect(after.state).toBe('running');
    expect(after.clusterId).toBe(before.clusterId);
    expect(after.brokers).toEqual(before.brokers);
  });
});
