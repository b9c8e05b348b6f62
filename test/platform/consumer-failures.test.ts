import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { createEventConsumer, type EventConsumer } from '../../platform/consumer.ts';
import {
  createDeadLetterWriter,
  deadLetterTopic,
  RedriveHeaders,
  readDeadLetterHeaders,
  redriveRecord,
} from '../../platform/dead-letter.ts';
import { headerText } from '../../platform/records.ts';
import {
  actionEvent,
  createTopics,
  deleteTopics,
  randomName,
  readTopic,
  testHub,
  waitUntil,
} from './support.ts';

describe('event consumer failure handling', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  const created: string[] = [];
  const consumers: EventConsumer[] = [];

  beforeAll(async () => {
    hub = await testHub();
  });
  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.close()));
    await hub.close();
    await deleteTopics(hub.kafka, [...created, hub.schemaLogTopic]);
  });

  async function topicWithDlq(prefix: string): Promise<string> {
    const topic = randomName(prefix);
    created.push(topic, deadLetterTopic(topic));
    await createTopics(hub.kafka, [topic, deadLetterTopic(topic)]);
    return topic;
  }

  it('dead-letters undecodable bytes with their reason and keeps consuming the good records after them', async () => {
    const topic = await topicWithDlq('bad-bytes');
    const garbage = Buffer.from([0, 0, 0, 0, 7, 1, 2, 3]);
    await hub.producer.publishRaw(topic, [{ key: 'k', value: garbage, headers: { origin: 'legacy' } }]);
    const good = [actionEvent('a'), actionEvent('b'), actionEvent('c')];
    await hub.producer.publish(topic, good);

    const handled: string[] = [];
    const consumer = createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId: randomName('group'),
      topics: [topic],
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      handler: async (event) => {
        handled.push(event.envelope.id);
      },
    });
    consumers.push(consumer);
    await consumer.start();
    await waitUntil('three good records', () => handled.length === 3);
    expect(handled).toEqual(good.map((e) => e.envelope.id));

    const [letter, ...more] = await readTopic(hub.kafka, deadLetterTopic(topic));
    expect(more).toHaveLength(0);
    expect(letter!.value).toEqual(garbage);
    expect(letter!.key?.toString()).toBe('k');
    const info = readDeadLetterHeaders(letter!.headers);
    expect(info).toMatchObject({
      stage: 'decode',
      originalTopic: topic,
      originalPartition: 0,
      originalOffset: '0',
    });
    expect(info!.errorCode).toMatch(/^SERDE_/);
    expect(info!.errorMessage.length).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(info!.time))).toBe(false);
    expect(letter!.headers.origin?.toString()).toBe('legacy');
    expect(consumer.status()).toMatchObject({ processed: 3, deadLettered: 1 });

    // A redrive sends the exact original bytes back to the source topic, without the DLQ context.
    const redrive = redriveRecord(letter!, {
      topic: deadLetterTopic(topic),
      partition: 0,
      offset: letter!.offset,
    });
    expect(redrive.topic).toBe(topic);
    expect(redrive.record.value).toEqual(garbage);
    expect(readDeadLetterHeaders(redrive.record.headers)).toBeUndefined();
    expect(headerText(redrive.record.headers, RedriveHeaders.count)).toBe('1');
    expect(headerText(redrive.record.headers, 'origin')).toBe('legacy');
  });

  it('retries a retriable failure until it succeeds, with no dead letter', async () => {
    const topic = await topicWithDlq('retry');
    const event = actionEvent('flaky');
    await hub.producer.publish(topic, [event]);
    const attempts: number[] = [];
    let applied = 0;
    const consumer = createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId: randomName('group'),
      topics: [topic],
      retry: { retries: 5, initialDelayMs: 20, maxDelayMs: 100 },
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      handler: async (_event, context) => {
        attempts.push(context.attempt);
        if (context.attempt < 3) throw new HubError('TEST_DOWN', 'dependency down', { retriable: true });
        applied += 1;
      },
    });
    consumers.push(consumer);
    await consumer.start();
    await waitUntil('the third attempt', () => applied === 1);
    expect(attempts).toEqual([1, 2, 3]);
    expect(await readTopic(hub.kafka, deadLetterTopic(topic))).toHaveLength(0);
    expect(consumer.status()).toMatchObject({ retries: 2, deadLettered: 0 });
  });

  it('dead-letters a non-retriable handler failure and one whose retries ran out', async () => {
    const topic = await topicWithDlq('permanent');
    const rejected = actionEvent('rejected');
    const exhausted = actionEvent('exhausted');
    const fine = actionEvent('fine');
    await hub.producer.publish(topic, [rejected, exhausted, fine]);
    const calls = new Map<string, number>();
    const consumer = createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId: randomName('group'),
      topics: [topic],
      retry: { retries: 2, initialDelayMs: 10, maxDelayMs: 20 },
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      handler: async (event) => {
        const subject = event.envelope.subject;
        calls.set(subject, (calls.get(subject) ?? 0) + 1);
        if (subject === 'rejected')
          throw new HubError('TEST_INVALID', 'the target refused it', { retriable: false });
        if (subject === 'exhausted') throw new HubError('TEST_DOWN', 'still down', { retriable: true });
      },
    });
    consumers.push(consumer);
    await consumer.start();
    await waitUntil('the good record', () => calls.get('fine') === 1);
    expect(calls.get('rejected')).toBe(1);
    expect(calls.get('exhausted')).toBe(3);
    const letters = (await readTopic(hub.kafka, deadLetterTopic(topic))).map((r) =>
      readDeadLetterHeaders(r.headers),
    );
    expect(letters).toEqual([
      expect.objectContaining({ stage: 'handle', errorCode: 'TEST_INVALID', originalOffset: '0' }),
      expect.objectContaining({ stage: 'handle', errorCode: 'TEST_DOWN', originalOffset: '1' }),
    ]);
  });
  it('while paused (breaker open) leaves a failing record for resume() instead of the DLQ', async () => {
    const topic = await topicWithDlq('paused');
    await hub.producer.publish(topic, [actionEvent('needs-crm')]);
    let calls = 0;
    let applied = 0;
    const consumer: EventConsumer = createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId: randomName('group'),
      topics: [topic],
      // No retries at all: without the pause the record would go straight to the DLQ.
      retry: { retries: 0 },
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      handler: async () => {
        calls += 1;
        if (calls === 1) {
          consumer.pause(); // what a breaker does when it opens
          throw new HubError('TEST_BREAKER_OPEN', 'crm endpoint breaker is open', { retriable: true });
        }
        applied += 1;
      },
    });
    consumers.push(consumer);
    await consumer.start();
    await waitUntil('the breaker to open', () => calls === 1 && consumer.status().paused);
    consumer.resume();
    await waitUntil('the record to be applied after resume', () => applied === 1);
    expect(calls).toBe(2);
    expect(consumer.status()).toMatchObject({ deadLettered: 0, processed: 1 });
    expect(await readTopic(hub.kafka, deadLetterTopic(topic))).toHaveLength(0);
  });
});
