import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/logger.ts';
import type { Component, ComponentDeclaration } from '../../platform/declaration.ts';
import {
  ACTIONS_TOPIC,
  appliedTopic,
  createHubContext,
  DeadLetterHeaders,
  type HubContext,
} from '../../platform/index.ts';
import { type BlobStore, createLocalBlobStore } from '../../processors/blob-store/index.ts';
import { PROGRESS_TOPIC } from '../../processors/shared/media-service.ts';
import type { HubEvent } from '../../schemas/index.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

type Admin = ReturnType<HubContext['kafka']['admin']>;

/** Waits until every partition of `topics` has a leader: a busy broker answers metadata for a new topic late. */
export async function waitForTopics(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await admin
      .fetchTopicMetadata({ topics })
      .then((m) => m.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
      .catch(() => false);
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`topics not ready: ${topics.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface Received {
  topic: string;
  event: HubEvent<Record<string, unknown>>;
  headers: Record<string, string>;
}

/**
 * A real broker, a hub context and a blob store for processor tests. Topics carry a random
 * prefix; `received` collects every result, DLQ and progress record (decoded when Avro).
 */
// biome-ignore lint/suspicious/noExplicitAny: declarations of different config types side by side.
export async function startProcessorHarness(declarations: ComponentDeclaration<any>[]) {
  const prefix = `${uniqueName('media')}.`;
  const blobDir = await mkdtemp(join(tmpdir(), 'media-blobs-'));
  const blobs: BlobStore = createLocalBlobStore(blobDir);
  const { settings } = testKafka({ clientId: uniqueName('client') });
  const env = { ...process.env };
  delete env.SCHEMA_REGISTRY_URL;
  const hub: HubContext = await createHubContext({
    env,
    kafkaSettings: settings,
    schemaLogTopic: uniqueName('schemas'),
  });
  // Every processor reports results to `<prefix>hub.actions` and progress to the progress topic
  // (declared by processor.speech): both must exist even when speech is not in the list, or each
  // send waits out the producer's metadata retries first.
  const topics = [
    ...new Set([
      ...declarations.flatMap((d) =>
        d.topics.flatMap((t) => [prefix + t.name, ...(t.deadLetter ? [`${prefix}${t.name}.dlq`] : [])]),
      ),
      prefix + ACTIONS_TOPIC,
      prefix + PROGRESS_TOPIC,
    ]),
  ];
  const admin = hub.kafka.admin();
  await admin.connect();
  await admin.createTopics({
    // kafkajs' own wait gives up on the first UNKNOWN_TOPIC_OR_PARTITION of a busy broker.
    waitForLeaders: false,
    topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: -1 })),
  });
  await waitForTopics(admin, topics);
  await admin.disconnect();

  const received: Received[] = [];
  const watched = topics.filter(
    (t) =>
      t.endsWith('.res') || t.endsWith('.dlq') || t.endsWith('.progress') || t === prefix + ACTIONS_TOPIC,
  );
  const watcher = hub.kafka.consumer({ groupId: uniqueName('watch'), maxWaitTimeInMs: 200 });
  await watcher.connect();
  await watcher.subscribe({ topics: watched, fromBeginning: true });
  await watcher.run({
    eachMessage: async ({ topic, partition, message }) => {
      const headers = Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]),
      );
      const decoded = await hub.serde.decode(message.value!, { topic, partition, offset: message.offset });
      received.push({
        topic: topic.slice(prefix.length),
        event: decoded.value as Received['event'],
        headers,
      });
    },
  });

  const components: Component[] = [];
  // Each processor keeps its applied request ids in `_tributary.applied.<group>`; removed on close.
  const groups = new Set<string>();
  return {
    prefix,
    hub,
    blobs,
    blobDir,
    received,
    /** Creates and starts a processor with test settings on the prefixed topics. */
    async start<C>(declaration: ComponentDeclaration<C>, overrides: Record<string, unknown> = {}) {
      const config = declaration.config.parse({
        topicPrefix: prefix,
        blobDir,
        groupId: uniqueName('group'),
        retry: { retries: 1, initialDelayMs: 50, maxDelayMs: 100 },
        ...overrides,
      });
      groups.add((config as { groupId: string }).groupId);
      const component = declaration.create(config, { logger: silentLogger(), hub });
      components.push(component);
      await component.start();
      return component;
    },
    /** Publishes a request event and returns its envelope id. */
    async request(topic: string, type: string, data: unknown, correlationId: string) {
      const { newEnvelope } = await import('../../schemas/index.ts');
      const envelope = newEnvelope({
        type,
        source: 'test',
        subject: uniqueName('job'),
        actor: 'tester',
        correlationId,
      });
      await hub.producer.publish(prefix + topic, [{ envelope, data }]);
      return envelope.id;
    },
    /** Waits for the first received record on `topic` matching `match`. */
    async waitFor(topic: string, match: (r: Received) => boolean, timeoutMs = 45_000): Promise<Received> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = received.find((r) => r.topic === topic && match(r));
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no record on ${topic} matched within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    dlqCode: (r: Received) => r.headers[DeadLetterHeaders.errorCode],
    async close() {
      for (const c of components.reverse()) await c.close();
      await watcher.disconnect();
      const cleanup = hub.kafka.admin();
      await cleanup.connect();
      const applied = [...groups].map(appliedTopic);
      const existing = new Set(await cleanup.listTopics().catch(() => [] as string[]));
      await cleanup
        .deleteTopics({ topics: [...topics, ...applied.filter((t) => existing.has(t))] })
        .catch(() => undefined);
      await cleanup.disconnect();
      await hub.close();
      await rm(blobDir, { recursive: true, force: true });
    },
  };
}
