import { afterAll, beforeAll } from 'vitest';
import { waitForTopicLeaders } from '../../platform/ensure-topic.ts';
import { createHubContext, type HubContext } from '../../platform/hub-context.ts';
import type { KafkaClient } from '../../platform/kafka.ts';
import { createTopicFollower, type FollowedRecord } from '../../platform/topic-follower.ts';
import { type HubEvent, newEnvelope } from '../../schemas/index.ts';
import { testKafka as sharedKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

/** A client of the run's shared Kafka (test/support/kafka.ts), with a client id of its own. */
export function testKafka(): KafkaClient {
  return sharedKafka({ clientId: uniqueName('platform-test') }).kafka;
}

/** A fresh name for a topic or a group. */
export function randomName(prefix: string): string {
  return uniqueName(`test.${prefix}`);
}

/** Creates topics (and optionally nothing else) with the given partition count. */
export async function createTopics(kafka: KafkaClient, topics: string[], partitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: false,
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1 })),
    });
    await waitForTopicLeaders(admin, topics);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes topics created by a test (best effort). */
export async function deleteTopics(kafka: KafkaClient, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const mine = topics.filter((t) => existing.has(t));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } catch {
    // Cleanup only; a leftover random topic harms no other test.
  } finally {
    await admin.disconnect();
  }
}

/** Every record of a topic up to its current end (raw bytes and headers). */
export async function readTopic(kafka: KafkaClient, topic: string): Promise<FollowedRecord[]> {
  const records: FollowedRecord[] = [];
  const follower = createTopicFollower({ kafka, topic, onRecord: (r) => records.push(r) });
  try {
    await follower.start();
    await follower.catchUp();
  } finally {
    await follower.close();
  }
  return records;
}

/** Waits until `check` returns true, polling; throws with `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The hub plumbing over the test broker, with a schema log of its own. */
export async function testHub(
  options: { producerThread?: boolean } = {},
): Promise<HubContext & { schemaLogTopic: string }> {
  const shared = sharedKafka({ clientId: uniqueName('platform-test') });
  const env = { ...shared.env };
  delete env.SCHEMA_REGISTRY_URL;
  const schemaLogTopic = randomName('schemas');
  const kafkaSettings = { ...shared.settings, ...options };
  const hub = await createHubContext({ env, kafkaSettings, schemaLogTopic });
  return Object.assign(hub, { schemaLogTopic });
}

/** An audit action event (a schema every catalog has), about `subject`. */
export function actionEvent(subject: string, action = 'test.action', id?: string): HubEvent<unknown> {
  const envelope = newEnvelope({
    type: 'tributary.audit.Action',
    source: 'test',
    subject,
    actor: 'tester',
    id,
  });
  return {
    envelope,
    data: {
      action,
      actor: 'tester',
      resource: subject,
      outcome: 'succeeded',
      argsDigest: null,
      subjectId: null,
      details: {},
    },
  };
}

/**
 * A test hub for the tests of one describe block, with `topics` created (`partitions` each)
 * before them and deleted after them; read `.hub` inside the tests.
 */
export function hubWithTopics(topics: string[], partitions: number): { hub: TestHub } {
  const holder = {} as { hub: TestHub };
  beforeAll(async () => {
    holder.hub = await testHub();
    await createTopics(holder.hub.kafka, topics, partitions);
  });
  afterAll(async () => {
    await holder.hub.close();
    await deleteTopics(holder.hub.kafka, [...topics, holder.hub.schemaLogTopic]);
  });
  return holder;
}

type TestHub = Awaited<ReturnType<typeof testHub>>;
