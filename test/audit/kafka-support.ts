import { type AuditEntry, auditEntrySchema } from '../../audit/entry.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import {
  createHubContext,
  type HubContext,
  type KafkaClient,
  kafkaSettingsFromEnv,
} from '../../platform/index.ts';
import { type HubEvent, newEnvelope } from '../../schemas/index.ts';
import { waitForTopics } from '../processors/kafka-harness.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

/** Hub plumbing over the test broker with its own schema log, and a fresh action topic. */
export async function auditTestHub(partitions = 3): Promise<{
  hub: HubContext;
  kafka: KafkaClient;
  env: NodeJS.ProcessEnv;
  topic: string;
  schemaLogTopic: string;
  /** Another fresh topic, deleted on close. */
  newTopic(partitions?: number): Promise<string>;
  close(): Promise<void>;
}> {
  const { env, kafka } = testKafka();
  delete env.SCHEMA_REGISTRY_URL;
  const schemaLogTopic = uniqueName('audit-schemas');
  const topic = uniqueName('audit-actions');
  const hub = await createHubContext({
    env,
    kafkaSettings: kafkaSettingsFromEnv({ ...env, KAFKA_CLIENT_ID: uniqueName('audit-test') }),
    schemaLogTopic,
  });
  const topics = [topic, schemaLogTopic];
  const newTopic = async (count = partitions, name = uniqueName('audit-actions')) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      // kafkajs' own wait gives up on the first "does not host this topic-partition" of a busy broker.
      await admin.createTopics({
        waitForLeaders: false,
        topics: [{ topic: name, numPartitions: count, replicationFactor: -1 }],
      });
      await waitForTopics(admin, [name]);
    } finally {
      await admin.disconnect();
    }
    if (!topics.includes(name)) topics.push(name);
    return name;
  };
  await newTopic(partitions, topic);
  return {
    hub,
    kafka,
    env,
    topic,
    schemaLogTopic,
    newTopic,
    async close() {
      await hub.close();
      const a = kafka.admin();
      await a.connect();
      await a.deleteTopics({ topics }).catch(() => {});
      await a.disconnect();
    },
  };
}

/** An action event as a component's emitter would publish it. */
export function actionEvent(i: number, extra: { subjectId?: string | null } = {}): HubEvent<unknown> {
  const resource = `crm.contact/${i % 17}`;
  return {
    envelope: newEnvelope({
      type: 'tributary.audit.Action',
      source: 'connector.crm',
      subject: resource,
      actor: `user-${i % 5}`,
    }),
    data: {
      action: i % 2 === 0 ? 'connector.sync.batch' : 'mcp.tool.call',
      actor: `user-${i % 5}`,
      resource,
      outcome: i % 7 === 0 ? 'denied' : 'succeeded',
      argsDigest: null,
      subjectId: extra.subjectId ?? null,
      details: { n: String(i) },
    },
  };
}

/** Every entry of every chain of an audit folder, by chain id. */
export async function readChains(dir: string): Promise<Map<string, AuditEntry[]>> {
  const store = createSegmentStore({ dir });
  const out = new Map<string, AuditEntry[]>();
  for (const chain of await store.chainIds()) {
    const entries: AuditEntry[] = [];
    for await (const r of store.readEntries(chain)) entries.push(auditEntrySchema.parse(r.value));
    out.set(chain, entries);
  }
  return out;
}

/** Sum over partitions of the topic's end offsets, and of the group's committed offsets. */
export async function offsets(
  kafka: KafkaClient,
  topic: string,
  groupId: string,
): Promise<{ end: bigint; committed: bigint }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [group] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const end = ends.reduce((sum, p) => sum + BigInt(p.high), 0n);
    const committed = (group?.partitions ?? []).reduce(
      (sum, p) => sum + (p.offset === '-1' ? 0n : BigInt(p.offset)),
      0n,
    );
    return { end, committed };
  } finally {
    await admin.disconnect();
  }
}

/** Polls until `check` holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 45_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
