import type { HubContext } from '../../platform/hub-context.ts';
import type { KafkaClient } from '../../platform/kafka.ts';
import type { HubEvent } from '../../schemas/index.ts';
import { newEvent } from '../../schemas/index.ts';
import { actionEvent } from '../platform/support.ts';

export {
  actionEvent,
  createTopics,
  deleteTopics,
  readTopic,
  testHub,
  waitUntil,
} from '../platform/support.ts';

/** A CRM contact change about contact `contactId` (a second event type besides actions). */
export function contactEvent(contactId: string, lastName: string): HubEvent<unknown> {
  return newEvent(
    'tributary.crm.ContactChanged',
    { source: 'test', subject: contactId, actor: 'tester' },
    {
      contactId,
      accountId: null,
      externalId: null,
      firstName: null,
      lastName,
      email: null,
      phone: null,
      title: null,
      modifiedAt: Date.now(),
    },
  );
}

/** Publishes `count` events (every third a contact change, the rest actions) in chunks. */
export async function publishMixed(
  hub: HubContext,
  topic: string,
  count: number,
  prefix = 'k',
): Promise<{ actions: number; contacts: number }> {
  let contacts = 0;
  const chunk: HubEvent<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 3 === 2) {
      chunk.push(contactEvent(`${prefix}-${i % 97}`, `name-${i}`));
      contacts++;
    } else chunk.push(actionEvent(`${prefix}-${i % 97}`, `test.action.${i}`));
    if (chunk.length === 1000) await hub.producer.publish(topic, chunk.splice(0));
  }
  await hub.producer.publish(topic, chunk.splice(0));
  return { actions: count - contacts, contacts };
}

/** Sum of (high - low) over the partitions of a topic. */
export async function recordCount(kafka: KafkaClient, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, o) => n + Number(BigInt(o.high) - BigInt(o.low)), 0);
  } finally {
    await admin.disconnect();
  }
}
