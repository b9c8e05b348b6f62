import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditConsumer } from '../../audit/consumer.ts';
import { generateAuditKeyFile, parseAuditKeys } from '../../audit/keys.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { verifyChain } from '../../audit/verify.ts';
import {
  createDeadLetterWriter,
  createEventConsumer,
  createMemoryIdempotencyStore,
  createTopicFollower,
  EventHeaders,
  type HubContext,
  headerText,
} from '../../platform/index.ts';
import { readChains } from '../audit/kafka-support.ts';
import {
  type DedicatedCluster,
  dedicatedClusterUnavailable,
  startDedicatedCluster,
} from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import {
  actionEvent,
  createTopics,
  publishWithRetry,
  recordsIn,
  reliabilityHub,
  renewableProducer,
  waitUntil,
} from './support.ts';
import { createTally } from './tally.ts';

/**
 * Broker faults on private local clusters: brokers die by SIGKILL while a platform producer
 * publishes and a platform consumer (with idempotency) applies the stream. Every event id must
 * be applied exactly once in the end; on three brokers the audit consumer records the same
 * stream and its chains must have no gap and verify.
 */

const tally = createTally(import.meta.filename);
afterAll(() => void tally.report());

const skipReason = dedicatedClusterUnavailable();
const EVENTS = 2_000;
const BATCH = 50;
const PARTITIONS = 3;

interface StreamResult {
  published: string[];
  applied: Map<string, number>;
  retries: number;
  renewals: number;
  incompleteAcks: number;
  wireDuplicates: number;
}

/**
 * Publishes EVENTS action events in batches while a consumer applies them; `faultAt(batch)` is
 * started (not awaited) at each batch so faults strike mid-stream; waits for every fault and
 * every event to be applied.
 */
async function streamThrough(
  hub: HubContext,
  topic: string,
  faultAt: (batch: number) => Promise<void> | undefined,
): Promise<StreamResult> {
  const applied = new Map<string, number>();
  const consumer = createEventConsumer({
    kafka: hub.kafka,
    serde: hub.serde,
    groupId: uniqueName('rel-broker-faults'),
    topics: [topic],
    deadLetters: createDeadLetterWriter({ producer: hub.producer }),
    idempotency: createMemoryIdempotencyStore({ capacity: EVENTS * 2 }),
    sessionTimeoutMs: 10_000,
    async handler(event) {
      applied.set(event.envelope.id, (applied.get(event.envelope.id) ?? 0) + 1);
    },
  });
  const published: string[] = [];
  const ackOf = new Map<string, string>();
  let incompleteAcks = 0;
  const faults: Promise<void>[] = [];
  let retries = 0;
  const producer = renewableProducer(hub);
  try {
    await consumer.start();
    for (let b = 0; b * BATCH < EVENTS; b++) {
      const fault = faultAt(b);
      if (fault) faults.push(fault);
      const events = Array.from({ length: BATCH }, (_, i) => actionEvent(b * BATCH + i));
      retries += await publishWithRetry(producer, topic, events, {
        // Every batch carries all 23 subjects, so it spans every partition of the topic.
        partitions: PARTITIONS,
        onAck: (acks, tries) => {
          for (const e of events) ackOf.set(e.envelope.id, `batch ${b} try ${tries} ${JSON.stringify(acks)}`);
        },
        onIncompleteAck: () => void incompleteAcks++,
      });
      published.push(...events.map((e) => e.envelope.id));
      await sleep(40);
    }
    await Promise.all(faults);
    await waitUntil(
      () => `every event applied (${applied.size}/${published.length})`,
      () => published.every((id) => applied.has(id)),
      60_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}; ${await whereAreTheMissing(hub, topic, published, applied, ackOf)}`);
    });
    return {
      published,
      applied,
      retries,
      renewals: producer.renewals,
      incompleteAcks,
      wireDuplicates: consumer.status().duplicates,
    };
  } finally {
    await producer.close();
    await consumer.close();
  }
}

/** Event id of every record of a topic, by `<partition>@<offset>`. */
async function eventIdsIn(hub: HubContext, topic: string): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const follower = createTopicFollower({
    kafka: hub.kafka,
    topic,
    onRecord: (r) => ids.set(`${r.partition}@${r.offset}`, headerText(r.headers, EventHeaders.eventId) ?? ''),
  });
  await follower.start();
  await follower.catchUp(30_000);
  await follower.close();
  return ids;
}

/** For a failure message: are the unapplied events in the topic at all, and where? */
async function whereAreTheMissing(
  hub: HubContext,
  topic: string,
  published: string[],
  applied: Map<string, number>,
  ackOf: Map<string, string>,
): Promise<string> {
  const inTopic = new Map<string, string>();
  const follower = createTopicFollower({
    kafka: hub.kafka,
    topic,
    onRecord: (r) =>
      inTopic.set(headerText(r.headers, EventHeaders.eventId) ?? '', `${r.partition}@${r.offset}`),
  });
  await follower.start();
  await follower.catchUp(20_000);
  await follower.close();
  const missing = published.filter((id) => !applied.has(id));
  const partitions = new Map<number, number>();
  for (const where of inTopic.values()) {
    const [p, o] = where.split('@').map(Number);
    partitions.set(p!, Math.max(partitions.get(p!) ?? -1, o!));
  }
  return `topic holds ${inTopic.size} records, last offsets ${JSON.stringify([...partitions])}; unapplied: ${missing
    .map((id) => `${id.slice(0, 8)}=${inTopic.get(id) ?? 'not in topic'} (acked ${ackOf.get(id)})`)
    .join(' ')}`;
}

function checkExactlyOnce(result: StreamResult, what: string): void {
  const missing = result.published.filter((id) => !result.applied.has(id));
  const twice = [...result.applied].filter(([, n]) => n > 1);
  tally.add(
    { eventsChecked: result.published.length, eventsLost: missing.length },
    `${what}: ${result.published.length} events, ${result.retries} publish retries (${result.renewals} fresh producers, ${result.incompleteAcks} sends the client reported done with a partition missing), ${result.wireDuplicates} duplicates dropped by idempotency`,
  );
  expect(missing).toEqual([]);
  expect(twice).toEqual([]);
  expect(result.applied.size).toBe(result.published.length);
}

describe.skipIf(skipReason)(`broker faults${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('single broker killed -9 mid-stream and restarted: producers retry, the consumer resumes, nothing lost or applied twice', {
    timeout: 180_000,
  }, async () => {
    await using cluster = await startDedicatedCluster({ nodes: 1 });
    const hub = await reliabilityHub(cluster.brokers);
    try {
      const topic = uniqueName('rel.single.events');
      await createTopics(hub.kafka, [topic], PARTITIONS);
      const result = await streamThrough(hub, topic, (batch) =>
        batch === Math.floor(EVENTS / BATCH / 4)
          ? (async () => {
              await cluster.kill(1, 'SIGKILL');
              // The stream goes on against a dead broker: sends wait in the client's retries or fail.
              expect(cluster.nodes[0]?.alive).toBe(false);
              tally.add({ faultsInjected: 1 }, 'kill -9 of the only broker mid-stream, restarted after 3 s');
              await sleep(3_000);
              await cluster.restart(1);
            })()
          : undefined,
      );
      checkExactlyOnce(result, 'single broker');
    } finally {
      await hub.close();
    }
  });

  /**
   * In earlier sessions this test hung in about one run of three: after the controller was
   * killed, a kafkajs consumer fetch loop spun without yielding (kafkajs#1384/#1387) and starved
   * the event loop. It passed 13 runs of 13 after the producer and consumer fixes that followed;
   * should the spin come back, the stall guard every test process runs (test/support/stall-guard.ts)
   * ends the process and the file fails instead of holding the run.
   */
  it('three brokers: one killed, then the active controller; no event lost, the audit chain has no gap and verifies', {
    timeout: 240_000,
  }, async () => {
    await using cluster: DedicatedCluster = await startDedicatedCluster({ nodes: 3 });
    const hub = await reliabilityHub(cluster.brokers);
    const dir = await mkdtemp(join(tmpdir(), 'tributary-rel-audit-'));
    const keys = parseAuditKeys(JSON.stringify(generateAuditKeyFile({ development: true })), 'test');
    const topic = uniqueName('rel.cluster.actions');
    await createTopics(hub.kafka, [topic], PARTITIONS);
    const audit = createAuditConsumer(
      {
        dir,
        topic,
        groupId: uniqueName('rel-audit'),
        checkpointEvery: 200,
        checkpointIntervalMs: 1_000,
        sessionTimeoutMs: 6_000,
      },
      { kafka: hub.kafka, serde: hub.serde, keys },
    );
    try {
      await audit.start();
      const killed: number[] = [];
      const result = await streamThrough(hub, topic, (batch) => {
        if (batch !== Math.floor(EVENTS / BATCH / 5)) return undefined;
        return (async () => {
          const controller = await cluster.activeControllerId();
          const other = [1, 2, 3].find((id) => id !== controller)!;
          await cluster.kill(other, 'SIGKILL');
          killed.push(other);
          tally.add({ faultsInjected: 1 }, `kill -9 of broker ${other} (not the controller) mid-stream`);
          await sleep(3_000);
          await cluster.restart(other);
          const active = await cluster.activeControllerId();
          expect(active).toBeDefined();
          await cluster.kill(active!, 'SIGKILL');
          killed.push(active!);
          tally.add({ faultsInjected: 1 }, `kill -9 of the active controller ${active} mid-stream`);
          await waitUntil('a new active controller', async () => {
            const next = await cluster.activeControllerId();
            return next !== undefined && next !== active;
          });
          await cluster.restart(active!);
        })();
      });
      expect(killed).toHaveLength(2);
      checkExactlyOnce(result, 'three brokers');

      // The audit consumer lived through the same faults. It chains each event id once (the
      // platform drops re-sent ids), so every record is either chained or a re-send of an id
      // chained before it in its partition: no gap, no duplicate.
      const records = await recordsIn(hub.kafka, topic);
      await waitUntil(
        () => `the audit to see ${records} records (${JSON.stringify(audit.status())})`,
        () => audit.status().recorded + audit.status().dropped >= records,
        90_000,
      );
      await audit.close();
      const chains = await readChains(dir);
      const onTopic = await eventIdsIn(hub, topic);
      const gaps: string[] = [];
      for (const [chain, list] of chains) {
        const byOffset = new Map(list.map((e) => [e.source.offset, e.eventId]));
        const chained = new Set<string>();
        for (let offset = 0; onTopic.has(`${chain}@${offset}`); offset++) {
          const id = onTopic.get(`${chain}@${offset}`)!;
          const entry = byOffset.get(String(offset));
          if (entry === id && !chained.has(id)) chained.add(id);
          else if (entry !== undefined || !chained.has(id)) gaps.push(`${chain}@${offset}`);
        }
        if (byOffset.size !== list.length) gaps.push(`chain ${chain} has an offset twice`);
      }
      expect(gaps).toEqual([]);
      const entries = [...chains.values()].flat();
      const recorded = new Set(entries.map((e) => e.eventId));
      expect(recorded.size).toBe(entries.length);
      const unrecorded = result.published.filter((id) => !recorded.has(id));
      tally.add(
        { eventsChecked: result.published.length, eventsLost: unrecorded.length },
        `audit chain over the three-broker stream: ${entries.length} entries for ${records} records (re-sends dropped)`,
      );
      expect(unrecorded).toEqual([]);
      const verdict = await verifyChain(createSegmentStore({ dir }), keys);
      expect(verdict).toMatchObject({ ok: true });
    } finally {
      await audit.close();
      await hub.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
