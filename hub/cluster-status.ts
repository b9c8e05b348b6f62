import type { HubAdmin } from '../platform/admin.ts';
import type { HubContext } from '../platform/index.ts';
import { INSTANCES_TOPIC } from './declaration.ts';
import { type InstanceView, readInstances } from './registry.ts';

/** What `tributary status` shows: live instances, dead-letter counts and consumer-group lag. */
export interface ClusterStatus {
  instances: InstanceView[];
  deadLetters: { topic: string; records: number }[];
  groups: { groupId: string; lag: number; partitions: number }[];
}

/** Records retained in a topic: end minus start offsets over its partitions. */
async function retained(admin: HubAdmin, topic: string): Promise<number> {
  const offsets = await admin.endOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(BigInt(p.high) - BigInt(p.low)), 0);
}

/** Maps with at most `limit` calls in flight: a cluster may hold hundreds of DLQ topics. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Reads the instance registry, counts the DLQ topics (the given ones, else every `*.dlq`) and sums the lag of the consumer
 * groups the live instances report (every group on the cluster with `allGroups`). It touches
 * every DLQ topic, so give it an admin of its own: kafkajs keeps refreshing the metadata of
 * topics it has seen and fails once one of them is deleted.
 */
export async function readClusterStatus(options: {
  hub: HubContext;
  admin: HubAdmin;
  topic?: string;
  allGroups?: boolean;
  includeStale?: boolean;
  /** DLQ topics to count (the hub's declared ones); every `*.dlq` on the cluster when omitted. */
  deadLetterTopics?: readonly string[];
}): Promise<ClusterStatus> {
  const { admin } = options;
  const topic = options.topic ?? INSTANCES_TOPIC;
  // No registry topic means no hub ever ran here; reading it would only wait for a timeout.
  const registryExists = (await admin.describeTopics([topic])).length > 0;
  const all = registryExists ? await readInstances({ hub: options.hub, topic }) : [];
  const instances = options.includeStale ? all : all.filter((i) => !i.stale);
  const topics = new Set(await admin.listTopicNames());
  const dlqTopics = (options.deadLetterTopics ?? [...topics].filter((t) => t.endsWith('.dlq')))
    .filter((t) => topics.has(t))
    .sort();
  const counted = await mapLimited(dlqTopics, 16, async (topic) => ({
    topic,
    // A topic deleted since the listing is simply left out.
    records: await retained(admin, topic).catch(() => undefined),
  }));
  const deadLetters = counted.flatMap((d) =>
    d.records === undefined ? [] : [{ topic: d.topic, records: d.records }],
  );
  let groupIds: string[];
  if (options.allGroups) {
    groupIds = (await admin.listGroups())
      .map((g) => g.groupId)
      .filter((g) => !g.startsWith('_tributary.follower.'));
  } else {
    const fromInstances = instances.flatMap((i) => i.components.flatMap((c) => c.groups));
    groupIds = [...new Set(fromInstances)];
  }
  const groups = await Promise.all(
    groupIds.sort().map(async (groupId) => {
      const lag = await admin.groupLag(groupId).catch(() => []);
      return { groupId, lag: lag.reduce((s, p) => s + p.lag, 0), partitions: lag.length };
    }),
  );
  return { instances, deadLetters, groups };
}
