import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import {
  createEventConsumer,
  type EventConsumerOptions,
  type EventHandler,
} from '../../platform/consumer.ts';
import { createDeadLetterWriter, deadLetterTopic } from '../../platform/dead-letter.ts';
import { createMemoryIdempotencyStore } from '../../platform/idempotency.ts';
import { appliedTopic, createTopicIdempotencyStore } from '../../platform/idempotency-topic.ts';
import {
  actionEvent,
  createTopics,
  deleteTopics,
  randomName,
  readTopic,
  testHub,
  waitUntil,
} from './support.ts';

describe('event consumer delivery', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  const created: string[] = [];

  beforeAll(async () => {
    hub = await testHub();
  });
  afterAll(async () => {
    await hub.close();
    await deleteTopics(hub.kafka, [...created, hub.schemaLogTopic]);
  });

  async function freshTopic(prefix: string): Promise<string> {
    const topic = randomName(prefix);
    created.push(topic, deadLetterTopic(topic));
    await createTopics(hub.kafka, [topic, deadLetterTopic(topic)]);
    return topic;
  }

  function consumerOf(
    topic: string,
    groupId: string,
    handler: EventHandler,
    extra: Partial<EventConsumerOptions> = {},
  ) {
    return createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId,
      topics: [topic],
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      handler,
      ...extra,
    });
  }

  it('close() while busy lets the in-flight record finish, commits it, and a restart resumes after it', async () => {
    const topic = await freshTopic('close-busy');
    const events = Array.from({ length: 30 }, (_, i) => actionEvent(`entity-${i}`));
    await hub.producer.publish(topic, events);
    const groupId = randomName('group');

    const firstRun: string[] = [];
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    let reachedTenth = false;
    const first = consumerOf(topic, groupId, async (event) => {
      if (firstRun.length === 9) {
        reachedTenth = true;
        await gate; // busy with the tenth record while close() is called
      }
      firstRun.push(event.envelope.id);
    });
    await first.start();
    await waitUntil('the tenth record to be in flight', () => reachedTenth);
    const closing = first.close();
    openGate();
    await closing;
    expect(firstRun).toEqual(events.slice(0, 10).map((e) => e.envelope.id));

    const secondRun: string[] = [];
    const second = consumerOf(topic, groupId, async (event) => {
      secondRun.push(event.envelope.id);
    });
    await second.start();
    await waitUntil('the rest of the stream', () => secondRun.length >= 20);
    await second.close();
    // Nothing lost, nothing applied twice.
    expect([...firstRun, ...secondRun]).toEqual(events.map((e) => e.envelope.id));
  });

  it('re-delivers after a restart a record whose effect never completed (commit only after the effect)', async () => {
    const topic = await freshTopic('restart');
    const events = Array.from({ length: 5 }, (_, i) => actionEvent(`order-${i}`));
    await hub.producer.publish(topic, events);
    const groupId = randomName('group');

    const firstRun: string[] = [];
    let stuck = false;
    const first = consumerOf(
      topic,
      groupId,
      async (event, context) => {
        if (event.envelope.id === events[2]!.envelope.id) {
          stuck = true;
          // The effect never completes: the process is going away under it.
          await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
          throw new HubError('TEST_KILLED', 'aborted mid-effect');
        }
        firstRun.push(event.envelope.id);
      },
      { closeTimeoutMs: 200 },
    );
    await first.start();
    await waitUntil('the third record to hang', () => stuck);
    await first.close();
    expect(firstRun).toEqual(events.slice(0, 2).map((e) => e.envelope.id));

    const secondRun: string[] = [];
    const second = consumerOf(topic, groupId, async (event) => {
      secondRun.push(event.envelope.id);
    });
    await second.start();
    await waitUntil('the remaining records', () => secondRun.length >= 3);
    await second.close();
    expect(secondRun).toEqual(events.slice(2).map((e) => e.envelope.id));
    // Being interrupted is not a failure of the record.
    expect(await readTopic(hub.kafka, deadLetterTopic(topic))).toHaveLength(0);
  });

  it('applies a duplicated event id once', async () => {
    const topic = await freshTopic('dupes');
    const once = actionEvent('customer-1');
    const other = actionEvent('customer-2');
    await hub.producer.publish(topic, [once, once, other, once]);
    const applied: string[] = [];
    const consumer = consumerOf(
      topic,
      randomName('group'),
      async (event) => {
        applied.push(event.envelope.id);
      },
      { idempotency: createMemoryIdempotencyStore({ capacity: 100 }) },
    );
    await consumer.start();
    await waitUntil(
      'all four records',
      () => consumer.status().processed + consumer.status().duplicates === 4,
    );
    await consumer.close();
    await consumer.close(); // safe twice
    await expect(consumer.start()).rejects.toMatchObject({ code: 'PLATFORM_CLOSED' });
    expect(applied).toEqual([once.envelope.id, other.envelope.id]);
    expect(consumer.status().duplicates).toBe(2);
  });

  it('never applies a replayed event twice, across a restart, with the durable store', async () => {
    const topic = await freshTopic('replay');
    const groupId = randomName('group');
    created.push(appliedTopic(groupId));
    const original = [actionEvent('invoice-1'), actionEvent('invoice-2')];
    await hub.producer.publish(topic, original);

    const applied: string[] = [];
    const handler: EventHandler = async (event) => {
      applied.push(event.envelope.id);
    };
    const first = consumerOf(topic, groupId, handler, {
      idempotency: createTopicIdempotencyStore({ kafka: hub.kafka, groupId }),
    });
    await first.start();
    await waitUntil('the originals', () => applied.length === 2);
    await first.close();

    // A replay re-publishes the same events (same ids) at new offsets, followed by a new one.
    const fresh = actionEvent('invoice-3');
    await hub.producer.publish(topic, [...original, fresh], { headers: { 'tributary.replay': 'true' } });
    const second = consumerOf(topic, groupId, handler, {
      idempotency: createTopicIdempotencyStore({ kafka: hub.kafka, groupId }),
    });
    await second.start();
    await waitUntil('the new event', () => applied.length >= 3);
    await waitUntil('the replayed records to be dropped', () => second.status().duplicates === 2);
    await second.close();
    expect(applied).toEqual([...original, fresh].map((e) => e.envelope.id));
  });
  it('processes partitions concurrently while keeping the order of each entity', async () => {
    const topic = randomName('ordered');
    created.push(topic, deadLetterTopic(topic));
    await createTopics(hub.kafka, [topic, deadLetterTopic(topic)], 3);
    const subjects = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    const events = Array.from({ length: 60 }, (_, i) =>
      actionEvent(subjects[i % subjects.length]!, `step-${i}`),
    );
    await hub.producer.publish(topic, events);
    const seen = new Map<string, string[]>();
    let inFlight = 0;
    let maxInFlight = 0;
    const consumer = consumerOf(
      topic,
      randomName('group'),
      async (event) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Uneven work, so any reordering inside a partition would show.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
        const subject = event.envelope.subject;
        seen.set(subject, [...(seen.get(subject) ?? []), event.envelope.id]);
        inFlight -= 1;
      },
      { concurrency: 3 },
    );
    await consumer.start();
    await waitUntil('all events', () => [...seen.values()].flat().length === events.length);
    await consumer.close();
    for (const subject of subjects) {
      expect(seen.get(subject)).toEqual(
        events.filter((e) => e.envelope.subject === subject).map((e) => e.envelope.id),
      );
    }
    expect(maxInFlight).toBeGreaterThan(1);
  });
});
