import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventConsumer } from '../../platform/consumer.ts';
import { createDeadLetterWriter } from '../../platform/dead-letter.ts';
import type { HubContext } from '../../platform/hub-context.ts';
import { actionEvent, createTopics, deleteTopics, randomName, testHub, waitUntil } from './support.ts';

/**
 * A consumer started on a topic the broker does not know yet (created moments later, or not yet
 * in the metadata of the broker asked, as on three brokers) waits for it instead of failing
 * start(); a topic that never appears still fails start() with the broker's answer.
 */
let hub: HubContext;
const topics: string[] = [];

beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await deleteTopics(hub.kafka, topics);
  await hub.close();
});

describe('consumer start on a settling topic', () => {
  it('waits for a topic created after start() was called and then consumes it', async () => {
    const topic = randomName('settling');
    topics.push(topic);
    const seen: string[] = [];
    const consumer = createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId: randomName('settling-group'),
      topics: [topic],
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      async handler(event) {
        seen.push(event.envelope.subject);
      },
    });
    try {
      const starting = consumer.start();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await createTopics(hub.kafka, [topic]);
      await starting;
      await hub.producer.publish(topic, [actionEvent('after-create')]);
      await waitUntil('the record published after the create', () => seen.includes('after-create'), 20_000);
      expect(seen).toEqual(['after-create']);
    } finally {
      await consumer.close();
    }
  });

  it('still fails start() naming the topic when it never appears', { timeout: 30_000 }, async () => {
    const topic = randomName('never');
    const consumer = createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId: randomName('never-group'),
      topics: [topic],
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      async handler() {},
    });
    try {
      await expect(consumer.start()).rejects.toMatchObject({
        code: 'KAFKA_CONSUMER_START',
        where: { topic },
      });
    } finally {
      await consumer.close();
    }
  });
});
