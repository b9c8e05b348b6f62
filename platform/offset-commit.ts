import { Admin } from '@platformatic/kafka';
import type { KafkaClient } from './kafka.ts';
import { clientOptions } from './producer-client.ts';

/**
 * Sets an inactive group's committed offsets with one OffsetCommit outside the group (generation
 * -1), as Kafka's own AlterConsumerGroupOffsets does. kafkajs can only do it by joining the group
 * with a consumer, which costs a rebalance delay (3 s by default) per reset. The broker refuses
 * it while the group has members.
 */
export async function commitGroupOffsets(
  kafka: KafkaClient,
  groupId: string,
  topic: string,
  offsets: { partition: number; offset: string }[],
): Promise<void> {
  const admin = new Admin({ ...clientOptions(kafka), retries: 3 });
  try {
    await admin.alterConsumerGroupOffsets({
      groupId,
      topics: [
        {
          name: topic,
          partitionOffsets: offsets.map((o) => ({ partition: o.partition, offset: BigInt(o.offset) })),
        },
      ],
    });
  } finally {
    await admin.close();
  }
}
