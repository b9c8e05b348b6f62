import type { ComponentDeclaration } from '../../../platform/declaration.ts';
import {
  ACTIONS_TOPIC,
  type DeadLetterInfo,
  deadLetterTopic,
  type KafkaClient,
  readDeadLetterHeaders,
} from '../../../platform/index.ts';
import type { HubEvent, Serde } from '../../../schemas/index.ts';
import { createTopicsAndWait } from '../../support/kafka.ts';

/** Creates every topic a declaration owns (with its DLQ) under `prefix`, plus the prefixed action topic. */
export async function createDeclaredTopics(
  kafka: KafkaClient,
  declaration: ComponentDeclaration<unknown>,
  prefix: string,
  offsetsTopic: string,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const names = declaration.topics.flatMap((t) => [
      t.name,
      ...(t.deadLetter ? [deadLetterTopic(t.name)] : []),
    ]);
    const topics = [
      ...[...names, ACTIONS_TOPIC].map((n) => ({
        topic: `${prefix}${n}`,
        numPartitions: 2,
        replicationFactor: -1,
      })),
      {
        topic: offsetsTopic,
        numPartitions: 1,
        replicationFactor: -1,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ];
    // Right after other topics were made, the broker may briefly answer "not the leader": try again.
    for (let attempt = 1; ; attempt++) {
      try {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t.topic));
        if (missing.length > 0)
          await createTopicsAndWait(admin, {
            topics: missing,
          });
        break;
      } catch (err) {
        if (attempt >= 8) throw err;
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

export interface Collected {
  events: HubEvent<Record<string, unknown>>[];
  keys: string[];
  dead: { key: string | null; value: Buffer | null; info: DeadLetterInfo }[];
  stop(): Promise<void>;
}

/** Reads a topic from its beginning into memory (decoded events, or dead letters for `.dlq` topics). */
export async function collectTopic(
  kafka: KafkaClient,
  serde: Serde,
  topic: string,
  groupId: string,
): Promise<Collected> {
  const out: Collected = { events: [], keys: [], dead: [], stop: async () => undefined };
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const key = message.key?.toString('utf8') ?? null;
      const info = readDeadLetterHeaders(message.headers as never);
      if (info) {
        out.dead.push({ key, value: message.value, info });
        return;
      }
      const decoded = await serde.decode(message.value!, { topic, partition: 0, offset: message.offset });
      out.events.push(decoded.value as HubEvent<Record<string, unknown>>);
      out.keys.push(key ?? '');
    },
  });
  out.stop = async () => {
    await consumer.disconnect();
  };
  return out;
}
