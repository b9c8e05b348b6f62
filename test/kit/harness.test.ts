import { describe, expect, it } from 'vitest';
import { createTopicsAndWait, testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

describe('test harness', () => {
  it('gives every test a real broker that produces and consumes', async () => {
    const { kafka, brokers, env } = testKafka();
    expect(brokers.length).toBeGreaterThan(0);
    expect(env.KAFKA_BROKERS).toBe(brokers.join(','));
    const topic = uniqueName('harness');
    const admin = kafka.admin();
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: uniqueName('harness-group') });
    try {
      await admin.connect();
      await createTopicsAndWait(admin, { topics: [{ topic, numPartitions: 2 }] });
      await producer.connect();
      await producer.send({
        topic,
        messages: [
          { key: 'a', value: '1' },
          { key: 'b', value: '2' },
        ],
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const values = new Set<string>();
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            values.add(String(message.value));
            if (values.size === 2) resolve();
          },
        });
      });
      expect([...values].sort()).toEqual(['1', '2']);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('makes names no other test uses, valid as Kafka topic names', () => {
    const names = new Set(Array.from({ length: 1000 }, () => uniqueName('orders.v1/x')));
    expect(names.size).toBe(1000);
    for (const name of names) expect(name).toMatch(/^orders\.v1-x-[0-9a-f]{12}$/);
  });
});
