import { setTimeout as sleep } from 'node:timers/promises';
import {
  createEventProducer,
  createHubContext,
  type EventProducer,
  type HubContext,
  type KafkaClient,
  kafkaConfigSchema,
  type RecordMetadata,
  waitForTopicLeaders,
} from '../../platform/index.ts';
import { type HubEvent, newEnvelope } from '../../schemas/index.ts';
import { uniqueName } from '../support/names.ts';

/** Hub plumbing (producer, serde, embedded registry on a schema log of its own) over `brokers`. */
export async function reliabilityHub(brokers: string[]): Promise<HubContext & { schemaLogTopic: string }> {
  const schemaLogTopic = uniqueName('rel-schemas');
  const env: NodeJS.ProcessEnv = { KAFKA_BROKERS: brokers.join(',') };
  const hub = await createHubContext({
    env,
    kafkaSettings: kafkaConfigSchema.parse({ brokers, clientId: uniqueName('reliability') }),
    schemaLogTopic,
  });
  return Object.assign(hub, { schemaLogTopic });
}

/** Creates topics with the broker's default replication and waits for their leaders. */
export async function createTopics(kafka: KafkaClient, topics: string[], partitions = 3): Promise<void> {
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

/**
 * Sum of the end offsets of a topic's partitions: how many records it holds. Retried for a
 * while: right after broker faults an admin client may still meet a refused connection.
 */
export async function recordsIn(kafka: KafkaClient, topic: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic);
      return ends.reduce((sum, p) => sum + Number(p.high), 0);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

/** An audit action event (a schema every catalog has), numbered `i`. */
export function actionEvent(i: number, source = 'reliability'): HubEvent<unknown> {
  const resource = `reliability/${i % 23}`;
  return {
    envelope: newEnvelope({
      type: 'tributary.audit.Action',
      source,
      subject: resource,
      actor: `user-${i % 5}`,
    }),
    data: {
      action: 'reliability.event',
      actor: `user-${i % 5}`,
      resource,
      outcome: 'succeeded',
      argsDigest: null,
      subjectId: null,
      details: { n: String(i) },
    },
  };
}

/** A producer that a failed send replaces with a fresh one (see publishWithRetry). */
export interface RenewableProducer {
  current: EventProducer;
  renewals: number;
  renew(): Promise<void>;
  close(): Promise<void>;
}

/** Wraps the hub's producer so that it can be replaced by a new one after a failure. */
export function renewableProducer(hub: HubContext): RenewableProducer {
  const self: RenewableProducer = {
    current: hub.producer,
    renewals: 0,
    async renew() {
      const old = self.current;
      self.current = createEventProducer({ kafka: hub.kafka, serde: hub.serde });
      self.renewals++;
      if (old !== hub.producer) await old.close().catch(() => undefined);
    },
    async close() {
      if (self.current !== hub.producer) await self.current.close().catch(() => undefined);
    },
  };
  return self;
}

/**
 * Publishes like a component does when the broker goes away: a failed send is retried with
 * backoff, with the same events (same ids), until `deadlineMs`. Returns how many retries it took.
 * A send that failed after the broker stored it leaves a duplicate on the wire, which the
 * consumers' idempotency must absorb.
 *
 * After a failure the producer is replaced by a fresh one (a new producer id), as a restarted
 * component would have: an idempotent producer can stay stuck on
 * OUT_OF_ORDER_SEQUENCE_NUMBER after a broker dies mid-request (found by this suite).
 */
export async function publishWithRetry(
  producer: RenewableProducer,
  topic: string,
  events: HubEvent<unknown>[],
  options: {
    deadlineMs?: number;
    /** Partitions every batch spans: an ack naming fewer is incomplete and the batch is re-sent. */
    partitions?: number;
    onAck?: (acks: RecordMetadata[], retries: number) => void;
    onIncompleteAck?: (acks: RecordMetadata[]) => void;
  } = {},
): Promise<number> {
  const deadline = Date.now() + (options.deadlineMs ?? 90_000);
  for (let retries = 0; ; retries++) {
    try {
      const acks = await producer.current.publish(topic, events);
      if (
        options.partitions !== undefined &&
        new Set(acks.map((a) => a.partition)).size < options.partitions
      ) {
        // A client can resolve a send whose request to a dying leader never got an answer
        // (kafkajs did, issue 1303), leaving that partition's records out: treat it as a failure.
        options.onIncompleteAck?.(acks);
        throw new Error(`incomplete ack: ${JSON.stringify(acks)}`);
      }
      options.onAck?.(acks, retries);
      return retries;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(Math.min(250 * 2 ** retries, 2000));
      await producer.renew();
    }
  }
}

/** Polls until `check` holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  what: string | (() => string),
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(100);
  }
}
