import { HubError, toHubError } from '../core/errors.ts';
import type { HubEvent } from '../schemas/index.ts';
import type { PublishOptions } from './producer.ts';
import type { RawRecord, RecordMetadata } from './records.ts';

/**
 * Overlaps the encoding of the next batch with the send of the one before, the way Kafka
 * Connect's source tasks poll while the producer still sends. Batches go to the broker in the
 * order they were submitted, one send at a time; after a send fails, no later batch of the
 * pipeline is sent (each fails with KAFKA_SEND_ABORTED), so per-key order holds whatever the
 * caller retries.
 */
export interface PublishPipeline {
  /**
   * Encodes `events` at once (rejects, with nothing queued, when one is invalid, naming its
   * index like publish does) and queues their send behind the batches before. Resolves once
   * fewer than `depth` batches are unacknowledged, with the promise of this batch's acks.
   */
  submit(events: HubEvent<unknown>[], options?: PublishOptions): Promise<Submitted>;
  /** Waits for every queued batch; rejects with the first send failure. */
  drain(): Promise<void>;
}

export interface Submitted {
  acked: Promise<RecordMetadata[]>;
}

/** The producer's publish with the send step given: encodes, traces, then calls `send`. */
export type PublishVia = (
  topic: string,
  events: HubEvent<unknown>[],
  options: PublishOptions | undefined,
  send: (records: RawRecord[]) => Promise<RecordMetadata[]>,
) => Promise<RecordMetadata[]>;

export function createPublishPipeline(
  topic: string,
  depth: number,
  publishVia: PublishVia,
  send: (records: RawRecord[]) => Promise<RecordMetadata[]>,
): PublishPipeline {
  if (!Number.isInteger(depth) || depth < 1)
    throw new HubError('CONFIG_INVALID', `pipeline depth must be an integer >= 1, got ${depth}`, {
      where: { topic },
    });
  const pending = new Set<Promise<unknown>>();
  let tail: Promise<unknown> = Promise.resolve();
  let broken: HubError | undefined;

  const aborted = (cause: HubError) =>
    new HubError('KAFKA_SEND_ABORTED', `not sent: an earlier batch to ${topic} failed (${cause.code})`, {
      retriable: true,
      cause,
      where: { topic },
    });

  return {
    async submit(events, options) {
      while (pending.size >= depth) await Promise.race(pending).catch(() => undefined);
      if (broken) throw aborted(broken);
      const previous = tail;
      let encoded: () => void = () => undefined;
      const ready = new Promise<void>((resolve) => {
        encoded = resolve;
      });
      const acked = publishVia(topic, events, options, async (records) => {
        encoded();
        await previous.catch(() => undefined);
        if (broken) throw aborted(broken);
        try {
          return await send(records);
        } catch (err) {
          broken ??= toHubError(err, 'KAFKA_SEND', { topic });
          throw err;
        }
      });
      // The caller may only look at `acked` later (or never, after an encode failure).
      acked.catch(() => undefined);
      tail = acked;
      pending.add(acked);
      void acked.finally(() => pending.delete(acked)).catch(() => undefined);
      await Promise.race([ready, acked]);
      return { acked };
    },
    async drain() {
      await Promise.allSettled([...pending]);
      if (broken) throw broken;
    },
  };
}
