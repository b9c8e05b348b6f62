import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubEvent } from '../../schemas/index.ts';
import { createTopicCheckpointStore, replayInto, resetGroupOffsets } from '../../topology/replay/index.ts';
import { uniqueName } from '../support/names.ts';
import { contactEvent, createTopics, deleteTopics, testHub, waitUntil } from './support.ts';

type Hub = Awaited<ReturnType<typeof testHub>>;
let hub: Hub;
const topics: string[] = [];
const source = uniqueName('test.replay.drill');

beforeAll(async () => {
  hub = await testHub();
  topics.push(source, hub.schemaLogTopic);
  await createTopics(hub.kafka, [source], 3);
});

afterAll(async () => {
  await hub?.close();
  if (hub) await deleteTopics(hub.kafka, topics);
});

type ReadModel = Map<string, string>;

/**
 * The downstream read model of the drill: latest last name per contact, built by a consumer
 * group that decodes every event and commits as it goes (as a real projection would).
 */
async function project(topic: string, groupId: string, model: ReadModel): Promise<void> {
  const consumer = hub.kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  const admin = hub.kafka.admin();
  await Promise.all([consumer.connect(), admin.connect()]);
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const decoded = await hub.serde.decode(message.value as Buffer, {
          topic,
          partition,
          offset: message.offset,
        });
        const { data } = decoded.value as { data: { contactId: string; lastName: string } };
        model.set(data.contactId, data.lastName);
      },
    });
    await waitUntil(`the projection of ${topic} to catch up`, async () => {
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
}

describe('recovery drill', { timeout: 60_000 }, () => {
  it('a wiped read model is rebuilt by a group reset and by a replay into a new topic, equal to the original', async () => {
    const expected: ReadModel = new Map();
    const events: HubEvent<unknown>[] = [];
    for (let i = 0; i < 900; i++) {
      const contactId = `c-${i % 70}`;
      const lastName = `name-${i}`;
      events.push(contactEvent(contactId, lastName));
      expected.set(contactId, lastName);
    }
    for (let i = 0; i < events.length; i += 300) await hub.producer.publish(source, events.slice(i, i + 300));

    const groupId = uniqueName('test.replay.projection');
    const original: ReadModel = new Map();
    await project(source, groupId, original);
    expect(original).toEqual(expected);

    // Disaster: the read model is lost. Recovery 1: move the projection's group back and re-run it.
    const wiped: ReadModel = new Map();
    await resetGroupOffsets({
      kafka: hub.kafka,
      groupId,
      topic: source,
      to: { kind: 'earliest' },
      actor: 'drill',
    });
    await project(source, groupId, wiped);
    expect(wiped).toEqual(original);

    // Recovery 2: replay the history into a fresh topic and build a new projection from it.
    const rebuilt = uniqueName('test.replay.drill.rebuilt');
    const checkpoints = uniqueName('test.replay.drill.checkpoints');
    topics.push(rebuilt, checkpoints);
    await createTopics(hub.kafka, [rebuilt], 3);
    const result = await replayInto({
      hub,
      checkpoints: createTopicCheckpointStore({
        kafka: hub.kafka,
        producer: hub.producer,
        topic: checkpoints,
      }),
      topic: source,
      into: rebuilt,
      from: { kind: 'earliest' },
      actor: 'drill',
    });
    expect(result.written).toBe(events.length);
    const fromReplay: ReadModel = new Map();
    await project(rebuilt, uniqueName('test.replay.projection'), fromReplay);
    expect(fromReplay).toEqual(original);
  });
});
