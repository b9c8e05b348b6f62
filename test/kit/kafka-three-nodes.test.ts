import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createTopicsAndWait,
  type DedicatedCluster,
  dedicatedClusterUnavailable,
  startDedicatedCluster,
} from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const skipReason = dedicatedClusterUnavailable();

const title = 'three-node local cluster survives losing a broker and the controller';

describe.skipIf(skipReason)(skipReason ? `${title} (skipped: ${skipReason})` : title, () => {
  let cluster: DedicatedCluster;
  const topic = uniqueName('kit-rf3');
  const sent: string[] = [];

  beforeAll(async () => {
    cluster = await startDedicatedCluster({ nodes: 3 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /**
   * Writes one record with acks=all. While a killed broker still leads partitions (until the
   * controller fences it, ~9 s) sends fail with connection errors; a write only counts once the
   * cluster acknowledged it, so retry with a fresh producer until then.
   */
  async function produce(value: string): Promise<void> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const producer = cluster.kafka.producer({ idempotent: true });
      try {
        await producer.connect();
        await producer.send({ topic, acks: -1, messages: [{ key: value, value }] });
        sent.push(value);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(1000);
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    }
  }

  it('runs three brokers, and new topics get replication factor 3 with min ISR 2', async () => {
    const admin = cluster.kafka.admin();
    await admin.connect();
    try {
      expect((await admin.describeCluster()).brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
      // kafkajs' own leader wait gives up on the UNKNOWN_TOPIC_OR_PARTITION a broker answers
      // while it learns of the topic (a CI run failed so); the shared helper waits through it.
      await createTopicsAndWait(admin, { topics: [{ topic, numPartitions: 3 }] });
      // Metadata reaches each broker a moment after the controller created the topic: until it
      // has, a broker asked for the topic's metadata or configs answers that it does not host it.
      const meta = await vi.waitFor(() => admin.fetchTopicMetadata({ topics: [topic] }), { timeout: 30_000 });
      expect(meta.topics[0]?.partitions).toHaveLength(3);
      for (const p of meta.topics[0]?.partitions ?? []) expect(p.replicas).toHaveLength(3);
      const configs = await vi.waitFor(
        () =>
          admin.describeConfigs({
            resources: [{ type: 2, name: topic, configNames: ['min.insync.replicas'] }],
            includeSynonyms: false,
          }),
        { timeout: 30_000, interval: 250 },
      );
      expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('2');
    } finally {
      await admin.disconnect();
    }
    await produce('all-three-up');
  });

  it('keeps accepting acks=all writes after a broker is killed, and takes it back', async () => {
    await cluster.kill(2);
    expect(cluster.nodes.find((n) => n.id === 2)?.alive).toBe(false);
    await produce('broker-2-down');
    await cluster.restart(2);
    expect(cluster.nodes.every((n) => n.alive)).toBe(true);
  });

  it('elects a new controller when the active one is killed', async () => {
    for (const node of cluster.nodes) if (!node.alive) await cluster.restart(node.id);
    const controller = await cluster.activeControllerId();
    expect([1, 2, 3]).toContain(controller);
    await cluster.kill(controller!);
    await produce('controller-down');
    await vi.waitFor(
      async () => {
        const next = await cluster.activeControllerId();
        expect(next).toBeDefined();
        expect(next).not.toBe(controller);
      },
      { timeout: 30_000, interval: 500 },
    );
  });

  it('lost no acknowledged write', async () => {
    const consumer = cluster.kafka.consumer({ groupId: uniqueName('kit-rf3-group') });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen = new Set<string>();
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            seen.add(String(message.value));
            if (sent.every((v) => seen.has(v))) resolve();
          },
        });
      });
      expect([...seen].sort()).toEqual([...sent].sort());
    } finally {
      await consumer.disconnect();
    }
  });
});
