import { createTopicFollower, type EventProducer, type KafkaClient } from '../platform/index.ts';
import { type Checkpoint, checkpointSchema } from './entry.ts';

/**
 * Checkpoint anchors: every signed checkpoint is also published to a compacted Kafka topic,
 * keyed by action topic and chain. Someone who can rewrite the audit folder can cut the tail of
 * a chain together with the checkpoints after it; the copy in Kafka still says how far the chain
 * went, so `tributary audit verify --anchors` catches it. The value is the checkpoint's own JSON,
 * byte for byte what was signed, so no schema conversion can disturb the signature.
 */

/** The compacted topic holding the latest checkpoint of every chain. */
export const ANCHOR_TOPIC = '_tributary.audit.checkpoints';

const anchorKey = (actionTopic: string, chain: string) => `${actionTopic}:${chain}`;

/** Publishes one checkpoint as the chain's anchor. */
export async function publishAnchor(
  producer: EventProducer,
  actionTopic: string,
  checkpoint: Checkpoint,
  topic = ANCHOR_TOPIC,
): Promise<void> {
  await producer.publishRaw(topic, [
    { key: anchorKey(actionTopic, checkpoint.chain), value: Buffer.from(JSON.stringify(checkpoint)) },
  ]);
}

/**
 * The anchored checkpoints of one action topic's chains: per chain the one with the highest
 * seq (compaction keeps the latest; an older one published again does not win). Values that
 * are not checkpoints are skipped; verify checks the signatures of the rest.
 */
export async function readAnchors(
  kafka: KafkaClient,
  actionTopic: string,
  topic = ANCHOR_TOPIC,
): Promise<Map<string, Checkpoint>> {
  const anchors = new Map<string, Checkpoint>();
  const prefix = `${actionTopic}:`;
  const follower = createTopicFollower({
    kafka,
    topic,
    onRecord: (record) => {
      const key = record.key?.toString('utf8');
      if (!key?.startsWith(prefix) || !record.value) return;
      let value: unknown;
      try {
        value = JSON.parse(record.value.toString('utf8'));
      } catch {
        return;
      }
      const parsed = checkpointSchema.safeParse(value);
      if (!parsed.success || parsed.data.chain !== key.slice(prefix.length)) return;
      const known = anchors.get(parsed.data.chain);
      if (!known || parsed.data.seq > known.seq) anchors.set(parsed.data.chain, parsed.data);
    },
  });
  try {
    await follower.start();
    await follower.catchUp();
  } finally {
    await follower.close();
  }
  return anchors;
}
