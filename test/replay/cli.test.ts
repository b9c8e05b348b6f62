import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReplayCommandOptions, registerReplayCommands } from '../../cli/commands/replay.ts';
import { HubError, UsageError } from '../../core/errors.ts';
import { uniqueName } from '../support/names.ts';
import { createTopics, deleteTopics, publishMixed, readTopic, recordCount, testHub } from './support.ts';

type Hub = Awaited<ReturnType<typeof testHub>>;
let hub: Hub;
const source = uniqueName('test.replay.cli');
const checkpointTopic = uniqueName('test.replay.cli.checkpoints');
const actionsTopic = uniqueName('test.replay.cli.actions');
const topics = [source, checkpointTopic, actionsTopic];

beforeAll(async () => {
  hub = await testHub();
  topics.push(hub.schemaLogTopic);
  await createTopics(hub.kafka, [source], 2);
  await createTopics(hub.kafka, [actionsTopic], 1);
  await publishMixed(hub, source, 1500);
});

afterAll(async () => {
  await hub?.close();
  if (hub) await deleteTopics(hub.kafka, topics);
});

/** Runs `tributary replay <args>`; returns stdout and what the progress bar drew. */
async function run(args: string[], extra: Partial<ReplayCommandOptions> = {}) {
  let out = '';
  let progress = '';
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    progress += chunk.toString();
  });
  const program = new Command('tributary').exitOverride();
  registerReplayCommands(program, {
    env: { TRIBUTARY_ACTOR: 'cli-tester' },
    write: (t) => {
      out += t;
    },
    progressStream: stream,
    // The CLI closes the hub it is given; the test keeps its own open.
    hubContext: async () => ({ ...hub, close: async () => {} }),
    checkpointTopic,
    actionsTopic,
    ...extra,
  });
  await program.parseAsync(['replay', ...args], { from: 'user' });
  return { out, progress };
}

async function newTarget(partitions = 2): Promise<string> {
  const name = uniqueName('test.replay.cli.target');
  topics.push(name);
  await createTopics(hub.kafka, [name], partitions);
  return name;
}

describe('tributary replay', { timeout: 60_000 }, () => {
  it('--into --dry-run prints the plan and writes nothing; the real run copies, draws progress and audits', async () => {
    const target = await newTarget();
    const dry = await run(['--topic', source, '--into', target, '--from', 'earliest', '--dry-run']);
    expect(dry.out).toContain(`dry run: would copy 1500 of 1500 records from ${source} into ${target}`);
    expect(await recordCount(hub.kafka, target)).toBe(0);

    const real = await run(['--topic', source, '--into', target, '--from', 'earliest', '--to', 'latest']);
    expect(real.out).toMatch(
      new RegExp(
        `^replayed 1500 records from ${source} into ${target} in .* s, \\d+/s \\(replay replay-[0-9a-f]{16}\\)`,
      ),
    );
    expect(real.progress).toContain('1500/1500 offsets');
    expect(await recordCount(hub.kafka, target)).toBe(1500);
    const audit = await readTopic(hub.kafka, actionsTopic);
    const decoded = await Promise.all(
      audit.map((r) => hub.serde.decode(r.value as Buffer, { topic: actionsTopic, ...r })),
    );
    const actors = decoded.map((d) => (d.value as { data: { actor: string; action: string } }).data);
    expect(actors).toContainEqual(
      expect.objectContaining({ actor: 'cli-tester', action: 'replay.finished' }),
    );

    const again = await run([
      '--topic',
      source,
      '--into',
      target,
      '--from',
      'earliest',
      '--to',
      'latest',
      '--json',
    ]);
    expect(JSON.parse(again.out).status).toBe('already-finished');
  });

  it('--resume continues an interrupted replay by its id', async () => {
    const target = await newTarget();
    const controller = new AbortController();
    // Interrupted before it starts: the checkpoint is written, nothing is copied yet.
    controller.abort();
    const interrupted = run(
      [
        '--topic',
        source,
        '--into',
        target,
        '--from',
        'earliest',
        '--filter',
        'type=tributary.crm.ContactChanged',
      ],
      {
        signal: controller.signal,
      },
    );
    const error = (await interrupted.catch((e: unknown) => e)) as HubError;
    expect(error).toBeInstanceOf(HubError);
    expect(error.code).toBe('REPLAY_INTERRUPTED');
    const id = /--resume (replay-[0-9a-f]+)/.exec(error.hint ?? '')?.[1];
    expect(id).toBeDefined();
    const resumed = await run(['--resume', id as string, '--json']);
    const result = JSON.parse(resumed.out);
    expect(result.resumed).toBe(true);
    expect(result.written).toBe(500);
    expect(await recordCount(hub.kafka, target)).toBe(500);
  });

  it('--into a missing topic fails unless --create, which makes it like the source', async () => {
    const target = uniqueName('test.replay.cli.created');
    topics.push(target);
    const missing = (await run(['--topic', source, '--into', target, '--from', 'earliest']).catch(
      (e: unknown) => e,
    )) as HubError;
    expect(missing.code).toBe('REPLAY_TOPIC_MISSING');
    expect(missing.message).toContain(target);
    const { out } = await run([
      '--topic',
      source,
      '--into',
      target,
      '--from',
      'earliest',
      '--create',
      '--json',
    ]);
    expect(JSON.parse(out)).toMatchObject({ written: 1500, partitioning: 'same' });
    expect(await recordCount(hub.kafka, target)).toBe(1500);
  });

  it('--group --dry-run prints partition: current -> new', async () => {
    const group = uniqueName('test.replay.cli.group');
    const { out } = await run(['--topic', source, '--group', group, '--from', 'offset:10', '--dry-run']);
    expect(out).toContain(`dry run: would reset group ${group} on ${source} to offset:10`);
    expect(out).toContain(`${source} partition 0: (none) -> 10`);
    expect(out).toContain(`${source} partition 1: (none) -> 10`);
  });

  it('usage errors are UsageErrors; an unknown replay id is a HubError', async () => {
    await expect(
      run(['--topic', source, '--group', 'g', '--into', 't', '--from', 'earliest']),
    ).rejects.toBeInstanceOf(UsageError);
    await expect(run(['--topic', source, '--into', 't', '--from', 'yesterday'])).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(
      run(['--topic', source, '--group', 'g', '--from', '0', '--filter', 'type=x']),
    ).rejects.toBeInstanceOf(UsageError);
    const missing = (await run(['--resume', 'replay-0000000000000000']).catch((e: unknown) => e)) as HubError;
    expect(missing.code).toBe('REPLAY_NOT_FOUND');
    await expect(run(['--topic', source, '--into', source, '--from', 'earliest'])).rejects.toBeInstanceOf(
      UsageError,
    );
  });
});
