import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerProcessorsCommands } from '../../cli/commands/processors.ts';
import { type HubError, UsageError } from '../../core/errors.ts';
import { appliedTopic } from '../../platform/index.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { waitForTopics } from './kafka-harness.ts';

describe('tributary processors CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'processors-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const program = (out: string[], stopSignal?: () => Promise<void>) => {
    const p = new Command('tributary').exitOverride();
    registerProcessorsCommands(p, {
      env: { ...testKafka().env, TRIBUTARY_LOG_LEVEL: 'silent' },
      write: (t) => out.push(t),
      ...(stopSignal ? { stopSignal } : {}),
    });
    return p;
  };

  it('lists every processor with its commands and topics', async () => {
    const out: string[] = [];
    await program(out).parseAsync(['processors', 'list'], { from: 'user' });
    const text = out.join('');
    for (const cmd of [
      'image.analyze',
      'audio.transcribe',
      'speech.synthesize',
      'podcast.create',
      'chart.render',
    ]) {
      expect(text).toContain(cmd);
    }
    expect(text).toContain('media.chart.render.req -> media.chart.render.res');
  });

  it('refuses an unknown processor and an invalid config with usage errors', async () => {
    const unknown = await program([])
      .parseAsync(['processors', 'run', 'video'], { from: 'user' })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UsageError);
    const config = join(dir, 'bad.yaml');
    await writeFile(config, 'runner:\n  maxConcurrent: 0\n');
    const bad = (await program([])
      .parseAsync(['processors', 'run', 'chart', '--config', config], { from: 'user' })
      .catch((e: unknown) => e)) as UsageError;
    expect(bad).toBeInstanceOf(UsageError);
    expect(bad.message).toContain('runner.maxConcurrent');
    const env = {
      ...testKafka().env,
      TRIBUTARY_LOG_LEVEL: 'silent',
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
    };
    const p = new Command('tributary').exitOverride();
    registerProcessorsCommands(p, { env, write: () => undefined });
    const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL };
    delete process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_BASE_URL;
    try {
      const noKey = (await p
        .parseAsync(['processors', 'run', 'image', '--provider', 'openai'], { from: 'user' })
        .catch((e: unknown) => e)) as HubError;
      expect(noKey.code).toBe('PROVIDER_NOT_CONFIGURED');
    } finally {
      if (saved.key !== undefined) process.env.OPENAI_API_KEY = saved.key;
      if (saved.url !== undefined) process.env.OPENAI_BASE_URL = saved.url;
    }
  });

  it('runs a processor until told to stop', async () => {
    const out: string[] = [];
    const config = join(dir, 'chart.yaml');
    // As after `tributary topology apply`: the request and action topics exist (under a test prefix).
    const prefix = `${uniqueName('cli')}.`;
    const topics = [`${prefix}media.chart.render.req`, `${prefix}hub.actions`];
    const groupId = uniqueName('group');
    const admin = testKafka().kafka.admin();
    await admin.connect();
    await admin.createTopics({
      // kafkajs' own wait gives up on the first UNKNOWN_TOPIC_OR_PARTITION of a busy broker.
      waitForLeaders: false,
      topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: -1 })),
    });
    await waitForTopics(admin, topics);
    await writeFile(config, `topicPrefix: ${prefix}\ngroupId: ${groupId}\nblobDir: ${join(dir, 'blobs')}\n`);
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const run = program(out, () => stopped).parseAsync(['processors', 'run', 'chart', '--config', config], {
      from: 'user',
    });
    await expect.poll(() => out.join(''), { timeout: 30_000 }).toContain('processor.chart running');
    stop();
    await run;
    await admin.deleteTopics({ topics: [...topics, appliedTopic(groupId)] }).catch(() => undefined);
    await admin.disconnect();
  }, 60_000);
});
