import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { createActionEmitter } from '../../platform/actions.ts';
import { EventHeaders } from '../../platform/producer.ts';
import { headerText } from '../../platform/records.ts';
import type { FollowedRecord } from '../../platform/topic-follower.ts';
import {
  type CheckpointStore,
  createTopicCheckpointStore,
  ReplayHeaders,
  readReplayHeaders,
  replayInto,
} from '../../topology/replay/index.ts';
import { uniqueName } from '../support/names.ts';
import { createTopics, deleteTopics, publishMixed, readTopic, recordCount, testHub } from './support.ts';

type Hub = Awaited<ReturnType<typeof testHub>>;
let hub: Hub;
let checkpoints: CheckpointStore;
const topics: string[] = [];
const source = uniqueName('test.replay.source');
const actionsTopic = uniqueName('test.replay.actions');
const checkpointTopic = uniqueName('test.replay.checkpoints');
const eventCount = 20_000;
let sourceRecords: FollowedRecord[];
let contacts = 0;

async function newTopic(prefix: string, partitions = 3): Promise<string> {
  const name = uniqueName(`test.replay.${prefix}`);
  topics.push(name);
  await createTopics(hub.kafka, [name], partitions);
  return name;
}

const key = (r: { partition: number; offset: string }) => `${r.partition}/${r.offset}`;
/** Source records below `offset` on every partition: what a replay up to offset:<offset> copies. */
const below = (offset: number) => sourceRecords.filter((r) => Number(r.offset) < offset);

beforeAll(async () => {
  hub = await testHub();
  topics.push(source, actionsTopic, checkpointTopic, hub.schemaLogTopic);
  await createTopics(hub.kafka, [source], 3);
  await createTopics(hub.kafka, [actionsTopic], 1);
  checkpoints = createTopicCheckpointStore({
    kafka: hub.kafka,
    producer: hub.producer,
    topic: checkpointTopic,
  });
  contacts = (await publishMixed(hub, source, eventCount)).contacts;
  sourceRecords = await readTopic(hub.kafka, source);
}, 120_000);

afterAll(async () => {
  await hub?.close();
  if (hub) await deleteTopics(hub.kafka, topics);
});

/** Every target record must be a byte-exact copy of the source record its headers name. */
function expectExactCopies(copies: FollowedRecord[], replayId: string) {
  const byPosition = new Map(sourceRecords.map((r) => [key(r), r]));
  for (const copy of copies) {
    const origin = readReplayHeaders(copy.headers);
    expect(origin?.id).toBe(replayId);
    expect(origin?.topic).toBe(source);
    const original = byPosition.get(
      key({ partition: origin?.partition ?? -1, offset: origin?.offset ?? '' }),
    );
    expect(original).toBeDefined();
    expect(copy.value?.equals(original?.value ?? Buffer.alloc(0))).toBe(true);
    expect(copy.key?.toString()).toBe(original?.key?.toString());
    expect(headerText(copy.headers, EventHeaders.eventId)).toBe(
      headerText(original?.headers, EventHeaders.eventId),
    );
    // Same partition count on both sides: the layout is kept.
    expect(copy.partition).toBe(origin?.partition);
  }
}

describe('replay --into', { timeout: 60_000 }, () => {
  it('copies the whole range byte for byte with replay headers, exact count, and audits start and finish', async () => {
    const target = await newTopic('copy');
    const actions = createActionEmitter({
      producer: hub.producer,
      source: 'cli.replay',
      topic: actionsTopic,
    });
    const started = Date.now();
    const result = await replayInto({
      hub,
      checkpoints,
      topic: source,
      into: target,
      from: { kind: 'earliest' },
      actor: 'tester',
      actions,
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `replay --into: ${eventCount} events in ${seconds.toFixed(2)} s (${Math.round(eventCount / seconds)} events/s)`,
    );
    expect(result.status).toBe('finished');
    expect(result.written).toBe(eventCount);
    expect(result.total).toBe(eventCount);
    const copies = await readTopic(hub.kafka, target);
    expect(copies).toHaveLength(eventCount);
    expect(
      new Set(
        copies.map(
          (c) =>
            `${headerText(c.headers, ReplayHeaders.originalPartition)}/${headerText(c.headers, ReplayHeaders.originalOffset)}`,
        ),
      ).size,
    ).toBe(eventCount);
    expectExactCopies(copies, result.id);

    const audit = (await readTopic(hub.kafka, actionsTopic)).map((r) =>
      hub.serde.decode(r.value as Buffer, { topic: actionsTopic, ...r }),
    );
    const decoded = (await Promise.all(audit)).map(
      (d) => (d.value as { data: { action: string; outcome: string; details: Record<string, string> } }).data,
    );
    const mine = decoded.filter((d) => d.details.id === result.id);
    expect(mine.map((d) => `${d.action}:${d.outcome}`)).toEqual([
      'replay.start:succeeded',
      'replay.finished:succeeded',
    ]);
    expect(mine[1]?.details.written).toBe(String(eventCount));

    // The same command again is the same replay: it is already finished and writes nothing.
    const again = await replayInto({
      hub,
      checkpoints,
      topic: source,
      into: target,
      from: { kind: 'earliest' },
      actor: 'tester',
    });
    expect(again.status).toBe('already-finished');
    expect(again.writtenNow).toBe(0);
    expect(await recordCount(hub.kafka, target)).toBe(eventCount);
  });

  it('keeps only the filtered type, by header or by decoding records that have no type header', async () => {
    const target = await newTopic('filter');
    // Records from a client that writes no type header: the filter must decode them.
    const bare = sourceRecords.slice(0, 30).map((r) => {
      const { [EventHeaders.eventType]: _type, ...headers } = r.headers;
      return { key: r.key, value: r.value, headers };
    });
    await hub.producer.publishRaw(source, bare);
    const bareContacts = bare.filter(
      (_, i) =>
        headerText(sourceRecords[i]?.headers, EventHeaders.eventType) === 'tributary.crm.ContactChanged',
    ).length;
    expect(bareContacts).toBeGreaterThan(0);
    const result = await replayInto({
      hub,
      checkpoints,
      topic: source,
      into: target,
      from: { kind: 'earliest' },
      filter: { types: ['tributary.crm.ContactChanged'] },
      actor: 'tester',
    });
    const copies = await readTopic(hub.kafka, target);
    expect(copies).toHaveLength(contacts + bareContacts);
    expect(result.written).toBe(contacts + bareContacts);
    for (const copy of copies) {
      const decoded = await hub.serde.decode(copy.value as Buffer, { topic: target, ...copy });
      expect(decoded.schemaName).toBe('tributary.crm.ContactChanged');
    }
  });

  it('a dry run counts what it would copy and writes nothing, not even a checkpoint', async () => {
    const target = await newTopic('dry');
    const result = await replayInto({
      hub,
      checkpoints,
      topic: source,
      into: target,
      from: { kind: 'offset', offset: 100n },
      to: { kind: 'offset', offset: 200n },
      filter: { types: ['tributary.audit.Action'] },
      dryRun: true,
      actor: 'tester',
    });
    expect(result.status).toBe('dry-run');
    expect(result.total).toBe(300);
    const inRange = sourceRecords.filter((r) => BigInt(r.offset) >= 100n && BigInt(r.offset) < 200n);
    const actionsInRange = inRange.filter(
      (r) => headerText(r.headers, EventHeaders.eventType) === 'tributary.audit.Action',
    );
    expect(result.matching).toBe(actionsInRange.length);
    expect(await recordCount(hub.kafka, target)).toBe(0);
    expect(await checkpoints.load(result.id)).toBeUndefined();
  });

  it('an interrupted replay resumes where it stopped: no duplicate, no gap', async () => {
    const target = await newTopic('resume');
    const controller = new AbortController();
    const args = {
      hub,
      checkpoints,
      topic: source,
      into: target,
      from: { kind: 'earliest' as const },
      to: { kind: 'offset' as const, offset: 2000n },
      actor: 'tester',
    };
    await expect(
      replayInto({
        ...args,
        concurrency: 1,
        checkpointIntervalMs: 0,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.written > 0) controller.abort(new HubError('INTERRUPTED', 'interrupted by the test'));
        },
      }),
    ).rejects.toThrow('interrupted');
    const partial = await recordCount(hub.kafka, target);
    expect(partial).toBeGreaterThan(0);
    const expected = below(2000);
    expect(partial).toBeLessThan(expected.length);

    const result = await replayInto(args);
    expect(result.resumed).toBe(true);
    expect(result.status).toBe('finished');
    expect(result.writtenNow).toBe(expected.length - partial);
    const copies = await readTopic(hub.kafka, target);
    expect(copies).toHaveLength(expected.length);
    expect(result.written).toBe(expected.length);
    const positions = new Set(
      copies.map(
        (c) =>
          `${headerText(c.headers, ReplayHeaders.originalPartition)}/${headerText(c.headers, ReplayHeaders.originalOffset)}`,
      ),
    );
    expect(positions.size).toBe(expected.length);
    for (const r of expected) expect(positions.has(key(r))).toBe(true);
  });

  it('a crash after a write but before its checkpoint is resumed exactly, from what the target holds', async () => {
    const target = await newTopic('crash');
    let saves = 0;
    // The real store, failing like a process that dies right after a write was acknowledged.
    const crashing: CheckpointStore = {
      load: (id) => checkpoints.load(id),
      save: async (cp) => {
        if (++saves >= 3) throw new HubError('TEST_CRASH', 'checkpoint lost');
        await checkpoints.save(cp);
      },
    };
    const args = {
      hub,
      topic: source,
      into: target,
      from: { kind: 'earliest' as const },
      to: { kind: 'offset' as const, offset: 1500n },
      actor: 'tester',
    };
    // One lane and a checkpoint after every batch: the second batch is written, its checkpoint lost.
    await expect(
      replayInto({ ...args, checkpoints: crashing, concurrency: 1, checkpointIntervalMs: 0 }),
    ).rejects.toThrow('checkpoint lost');
    const afterCrash = await readTopic(hub.kafka, target);
    const saved = await checkpoints.load(
      afterCrash.length > 0 ? (readReplayHeaders(afterCrash[0]?.headers)?.id ?? '') : '',
    );
    // The target holds more than the last good checkpoint counted: those records must not be copied again.
    expect(afterCrash.length).toBeGreaterThan(saved?.written ?? 0);

    const result = await replayInto({ ...args, checkpoints });
    const copies = await readTopic(hub.kafka, target);
    const expected = below(1500);
    expect(copies).toHaveLength(expected.length);
    expect(result.written).toBe(expected.length);
    expectExactCopies(copies, result.id);
    const positions = new Set(
      copies.map(
        (c) =>
          `${headerText(c.headers, ReplayHeaders.originalPartition)}/${headerText(c.headers, ReplayHeaders.originalOffset)}`,
      ),
    );
    expect(positions.size).toBe(expected.length);
  });
});
