import { describe, expect, it } from 'vitest';
import { createKafka, kafkaConfigSchema } from '../../platform/kafka.ts';
import {
  brokerErrorName,
  isRetriableClientError,
  type PinnedRecord,
  RelayedClientError,
} from '../../platform/producer-client.ts';
import { createThreadRecordSender } from '../../platform/thread-sender.ts';

const record = (i: number): PinnedRecord => ({ key: `k-${i}`, value: Buffer.from(`v-${i}`), partition: 0 });

describe('the producer thread', () => {
  it('fails the sends in flight as retriable when its thread ends, and starts a new thread for the next call', async () => {
    const kafka = createKafka(kafkaConfigSchema.parse({ brokers: ['127.0.0.1:9'] }));
    const sender = createThreadRecordSender(kafka, {
      workerUrl: new URL('./fixtures/dying-producer-thread.ts', import.meta.url),
    });
    await sender.connect();
    const err = await sender.send('orders', [record(1), record(2)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayedClientError);
    expect(isRetriableClientError(err)).toBe(true);
    expect(brokerErrorName(err)).toBeUndefined();
    expect((err as Error).message).toMatch(/the producer thread stopped \(exit code 3\)/);
    // A new thread answers (the stand-in says 7 partitions).
    expect(await sender.partitionCount('orders', true)).toBe(7);
    await sender.close();
    await expect(sender.send('orders', [record(3)])).rejects.toThrow(/closed/);
  });
});
