import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { createActionEmitter } from '../../platform/actions.ts';
import { EventHeaders } from '../../platform/producer.ts';
import { headerText } from '../../platform/records.ts';
import {
  createTopicCheckpointStore,
  type PositionSpec,
  replayInto,
  resetGroupOffsets,
} from '../../topology/replay/index.ts';
import { uniqueName } from '../support/names.ts';
import { actionEvent, createTopics, deleteTopics, readTopic, testHub, waitUntil } from './support.ts';

type Hub = Awaited<ReturnType<typeof testHub>>;
let hub: Hub;
const topic = uniqueName('test.replay.reset');
const actionsTopic = uniqueName('test.replay.reset.actions');
const checkpointTopic = uniqueName('test.replay.reset.checkpoints');
const copies: string[] = [];

beforeAll(async () => {
  hub = await testHub();
  await createTopics(hub.kafka, [topic], 3);
  await createTopics(hub.kafka, [actionsTopic], 1);
});

afterAll(async () => {
  await hub?.close();
  if (hub)
    await deleteTopics(hub.kafka, [topic, actionsTopic, checkpointTopic, ...copies, hub.schemaLogTopic]);
});

/** Consumes with `groupId` (committing) until its committed offsets reach the log end; returns event ids. */
async function consumeToEnd(groupId: string): Promise<string[]> {
  const ids: string[] = [];
  const consumer = hub.kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  const admin = hub.kafka.admin();
  await Promise.all([consumer.connect(), admin.connect()]);
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        ids.push(headerText(message.headers as never, EventHeaders.eventId) ?? '?');
      },
    });
    await waitUntil('the group to reach the end of the topic', async () => {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return ends.every(
        (e) => committed?.partitions.find((p) => p.partition === e.partition)?.offset === e.high,
      );
    });
  } finally {
    await consumer.disconnect();
    await admin.disconnect();
  }
  return ids;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('replay --group', { timeout: 60_000 }, () => {
  it('a group reset to a point in time re-delivers exactly the events after that time', async () => {
    const batchA = Array.from({ length: 60 }, (_, i) => actionEvent(`a-${i}`));
    await hub.producer.publish(topic, batchA);
    // Every record of A is stamped before `time`, every record of B at or after it.
    const time = Date.now() + 1;
    await sleep(20);
    const batchB = Array.from({ length: 45 }, (_, i) => actionEvent(`b-${i}`));
    await hub.producer.publish(topic, batchB);

    const groupId = uniqueName('test.replay.group');
    const first = await consumeToEnd(groupId);
    expect(first).toHaveLength(105);

    const plan = await resetGroupOffsets({
      kafka: hub.kafka,
      groupId,
      topic,
      to: { kind: 'time', timeMs: time },
      dryRun: true,
      actor: 'tester',
    });
    expect(plan.applied).toBe(false);
    expect(plan.state).toBe('Empty');
    expect(plan.partitions.map((p) => p.current)).not.toContain(null);
    const actions = createActionEmitter({
      producer: hub.producer,
      source: 'cli.replay',
      topic: actionsTopic,
    });
    const reset = await resetGroupOffsets({
      kafka: hub.kafka,
      groupId,
      topic,
      to: { kind: 'time', timeMs: time },
      actor: 'tester',
      actions,
    });
    expect(reset.applied).toBe(true);
    const audit = await readTopic(hub.kafka, actionsTopic);
    const decoded = await Promise.all(
      audit.map((r) => hub.serde.decode(r.value as Buffer, { topic: actionsTopic, ...r })),
    );
    const data = decoded.map(
      (d) => (d.value as { data: { action: string; details: Record<string, string> } }).data,
    );
    expect(data.map((d) => d.action)).toEqual(['replay.start', 'replay.finished']);
    expect(data[1]?.details).toMatchObject({ mode: 'group', group: groupId, redelivered: '45' });

    const again = await consumeToEnd(groupId);
    expect(again.sort()).toEqual(batchB.map((e) => e.envelope.id).sort());

    // The same point in time bounds a copy: [time, end) is B, [earliest, time) is A.
    const checkpoints = createTopicCheckpointStore({
      kafka: hub.kafka,
      producer: hub.producer,
      topic: checkpointTopic,
    });
    const copyIds = async (from: PositionSpec, to: PositionSpec | undefined) => {
      const into = uniqueName('test.replay.reset.copy');
      copies.push(into);
      await createTopics(hub.kafka, [into], 3);
      await replayInto({ hub, checkpoints, topic, into, from, ...(to ? { to } : {}), actor: 'tester' });
      return (await readTopic(hub.kafka, into))
        .map((r) => headerText(r.headers, EventHeaders.eventId))
        .sort();
    };
    expect(await copyIds({ kind: 'time', timeMs: time }, undefined)).toEqual(
      batchB.map((e) => e.envelope.id).sort(),
    );
    expect(await copyIds({ kind: 'earliest' }, { kind: 'time', timeMs: time })).toEqual(
      batchA.map((e) => e.envelope.id).sort(),
    );
  });

  it('resets to an offset on every partition, or per partition', async () => {
    const groupId = uniqueName('test.replay.group');
    await consumeToEnd(groupId);
    const reset = await resetGroupOffsets({
      kafka: hub.kafka,
      groupId,
      topic,
      to: { kind: 'partitions', offsets: new Map([[1, 0n]]) },
      actor: 'tester',
    });
    const p1 = reset.partitions.find((p) => p.partition === 1);
    expect(p1?.next).toBe('0');
    const redelivered = await consumeToEnd(groupId);
    expect(redelivered).toHaveLength(Number(p1?.current ?? 0));
  });

  it('refuses to reset a group that has members, naming the group and what to do', async () => {
    const groupId = uniqueName('test.replay.active');
    const consumer = hub.kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      let joined = false;
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joined = true;
      });
      await consumer.run({ eachMessage: async () => {} });
      await waitUntil('the consumer to join', () => joined);
      const attempt = resetGroupOffsets({
        kafka: hub.kafka,
        groupId,
        topic,
        to: { kind: 'earliest' },
        actor: 'tester',
      });
      await expect(attempt).rejects.toBeInstanceOf(HubError);
      const error = (await attempt.catch((e: unknown) => e)) as HubError;
      expect(error.code).toBe('REPLAY_GROUP_ACTIVE');
      expect(error.message).toContain(groupId);
      expect(error.hint).toContain(`stop every consumer of group ${groupId}`);
      // A dry run still shows the plan, and who is in the way.
      const plan = await resetGroupOffsets({
        kafka: hub.kafka,
        groupId,
        topic,
        to: { kind: 'earliest' },
        dryRun: true,
        actor: 'tester',
      });
      expect(plan.members.length).toBe(1);
    } finally {
      await consumer.disconnect();
    }
  });
});
