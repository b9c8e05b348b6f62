import { z } from 'zod';
import { HubError } from '../../core/errors.ts';
import {
  createTopicFollower,
  type EventProducer,
  ensureTopicOnce,
  type KafkaClient,
} from '../../platform/index.ts';

/**
 * Replay progress lives in the compacted topic `_tributary.replays`, keyed by replay id, and
 * not in a file: the range being replayed is in Kafka, so its progress must be too. A replay
 * interrupted on one machine (a laptop, a pod that was evicted) resumes from any other with
 * the same KAFKA_BROKERS, and compaction keeps only the latest state of each replay.
 */
export const REPLAYS_TOPIC = '_tributary.replays';

const rangeSchema = z.object({ partition: z.number().int(), from: z.string(), to: z.string() });

/** The state of one replay into a topic; `next` and `targetMarks` make the resume exact. */
export const replayCheckpointSchema = z.object({
  id: z.string(),
  topic: z.string(),
  into: z.string(),
  filter: z.array(z.string()).describe('envelope types kept; empty keeps every record'),
  from: z.string().describe('the --from the replay was started with'),
  to: z.string().describe('the --to the replay was started with'),
  ranges: z.array(rangeSchema).describe('resolved [from, to) per source partition'),
  next: z.record(z.string(), z.string()).describe('per source partition, next offset to copy'),
  targetMarks: z
    .record(z.string(), z.string())
    .describe('per target partition, end offset once every record counted here was acknowledged'),
  written: z.number().int().nonnegative(),
  status: z.enum(['running', 'finished']),
  startedAt: z.string(),
  updatedAt: z.string(),
});

export type ReplayCheckpoint = z.infer<typeof replayCheckpointSchema>;

/** Where replay checkpoints are kept. */
export interface CheckpointStore {
  load(id: string): Promise<ReplayCheckpoint | undefined>;
  save(checkpoint: ReplayCheckpoint): Promise<void>;
}

/** The checkpoint store over a compacted topic (created on first use with one partition). */
export function createTopicCheckpointStore(options: {
  kafka: KafkaClient;
  producer: EventProducer;
  topic?: string;
}): CheckpointStore {
  const topic = options.topic ?? REPLAYS_TOPIC;
  const ensure = ensureTopicOnce({
    kafka: options.kafka,
    topic,
    partitions: 1,
    configs: { 'cleanup.policy': 'compact' },
  });
  return {
    async load(id) {
      await ensure();
      let latest: Buffer | null | undefined;
      // Small topic (one record per replay after compaction): read it whole, keep the last value.
      const follower = createTopicFollower({
        kafka: options.kafka,
        topic,
        onRecord: (r) => {
          if (r.key?.toString('utf8') === id) latest = r.value;
        },
      });
      try {
        await follower.start();
        await follower.catchUp();
      } finally {
        await follower.close();
      }
      if (!latest) return undefined;
      const parsed = replayCheckpointSchema.safeParse(JSON.parse(latest.toString('utf8')));
      if (!parsed.success) {
        throw new HubError('REPLAY_CHECKPOINT_INVALID', `checkpoint of replay ${id} cannot be read`, {
          where: { topic, subject: id },
          hint: `start a new replay with another --id; ${parsed.error.message.slice(0, 200)}`,
        });
      }
      return parsed.data;
    },
    async save(checkpoint) {
      await ensure();
      await options.producer.publishRaw(topic, [
        { key: checkpoint.id, value: Buffer.from(JSON.stringify(checkpoint)) },
      ]);
    },
  };
}
