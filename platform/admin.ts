import type { Admin } from 'kafkajs';
import { HubError } from '../core/errors.ts';
import type { KafkaClient } from './kafka.ts';

/**
 * Thin typed wrappers over the Kafka admin API, so topology/ and the CLI never touch kafkajs.
 * Every broker failure becomes a HubError `KAFKA_ADMIN` that keeps kafkajs' `retriable` flag.
 */

/** kafkajs' ConfigResourceTypes.TOPIC; the enum is not a named ESM export of the CJS package. */
const TOPIC_RESOURCE = 2;
/** kafkajs' ConfigSource.TOPIC_CONFIG: a dynamic override set on the topic itself. */
const TOPIC_CONFIG_SOURCE = 1;

export interface TopicState {
  name: string;
  partitions: number;
  /** Replicas of partition 0 (the hub never creates uneven assignments). */
  replication: number;
  /** Every partition has a leader: the topic can be written to. */
  ready: boolean;
  /** Effective value of every config the broker reports (overrides and defaults alike). */
  configs: Record<string, string>;
  /** Only the configs set on the topic itself (dynamic topic overrides). */
  overrides: Record<string, string>;
}

export interface NewTopic {
  name: string;
  partitions: number;
  replication: number;
  configs: Record<string, string>;
}

export interface PartitionOffsets {
  partition: number;
  /** Next offset to be written (log end offset). */
  high: string;
  /** Earliest offset still in the log. */
  low: string;
}

export interface GroupSummary {
  groupId: string;
  protocolType: string;
  state: string;
  members: number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Committed offset of the group, or null when it never committed on this partition. */
  committed: string | null;
  end: string;
  /** end - committed; for a partition never committed, end - low (everything retained is unread). */
  lag: number;
}

export interface ClusterInfo {
  clusterId: string;
  controller: number | null;
  brokerCount: number;
}

export interface HubAdmin {
  start(): Promise<void>;
  close(): Promise<void>;
  cluster(): Promise<ClusterInfo>;
  /** Every topic name on the cluster, internal ones (`__*`) included only when asked. */
  listTopicNames(options?: { includeInternal?: boolean }): Promise<string[]>;
  /** Partitions, replication and configs of the named topics; topics that do not exist are left out. */
  describeTopics(names: string[]): Promise<TopicState[]>;
  createTopics(topics: NewTopic[]): Promise<void>;
  /** Sets these configs, keeping the topic's other overrides (AlterConfigs replaces the whole set). */
  setTopicConfigs(topic: string, configs: Record<string, string>): Promise<void>;
  /** Grows a topic to `count` partitions in total. */
  addPartitions(topic: string, count: number): Promise<void>;
  deleteTopics(names: string[]): Promise<void>;
  endOffsets(topic: string): Promise<PartitionOffsets[]>;
  listGroups(): Promise<GroupSummary[]>;
  /** Committed offsets of a group, for the given topics or every topic it committed on. */
  groupOffsets(
    groupId: string,
    topics?: string[],
  ): Promise<{ topic: string; partition: number; offset: string }[]>;
  /** Moves an idle group's committed offsets (replays, tests); fails while the group has members. */
  setGroupOffsets(
    groupId: string,
    topic: string,
    offsets: { partition: number; offset: string }[],
  ): Promise<void>;
  /** Lag of a group on every partition of the topics it committed on (or the given topics). */
  groupLag(groupId: string, topics?: string[]): Promise<PartitionLag[]>;
}

/** Builds an admin wrapper over a kafkajs client; `start()` connects, `close()` is safe twice. */
export function createHubAdmin(kafka: KafkaClient): HubAdmin {
  let admin: Admin | undefined;
  let started: Promise<void> | undefined;

  const client = (): Admin => {
    if (!admin) throw new HubError('KAFKA_ADMIN_NOT_STARTED', 'the admin client is used before start()');
    return admin;
  };

  /** Runs one admin request, turning kafkajs errors into HubErrors. */
  async function once<T>(what: string, fn: (a: Admin) => Promise<T>, topic?: string): Promise<T> {
    try {
      return await fn(client());
    } catch (err) {
      if (err instanceof HubError) throw err;
      const e = err as { message?: string; retriable?: boolean; type?: string };
      const detail = `${e.message ?? String(err)}${e.type ? ` (${e.type})` : ''}`;
      throw new HubError('KAFKA_ADMIN', `${what} failed: ${detail}`, {
        retriable: e.retriable ?? false,
        cause: err,
        ...(topic ? { where: { topic } } : {}),
        hint: 'check that KAFKA_BROKERS points at a running cluster and the client may administer topics',
      });
    }
  }

  /**
   * A read, retried on retriable errors: right after a topic is created or grown a broker may
   * answer NOT_LEADER / UNKNOWN_TOPIC_OR_PARTITION for a moment, which kafkajs passes through.
   */
  async function call<T>(what: string, fn: (a: Admin) => Promise<T>, topic?: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await once(what, fn, topic);
      } catch (err) {
        if (!(err instanceof HubError && err.retriable) || attempt >= 6) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  async function describeTopics(names: string[]): Promise<TopicState[]> {
    const existing = new Set(await api.listTopicNames({ includeInternal: true }));
    const wanted = [...new Set(names)].filter((n) => existing.has(n)).sort();
    if (wanted.length === 0) return [];
    const meta = await call('fetch topic metadata', (a) => a.fetchTopicMetadata({ topics: wanted }));
    const configs = await call('describe topic configs', (a) =>
      a.describeConfigs({
        resources: wanted.map((name) => ({ type: TOPIC_RESOURCE, name })),
        includeSynonyms: false,
      }),
    );
    const byName = new Map(configs.resources.map((r) => [r.resourceName, r.configEntries]));
    return meta.topics
      .map((t) => {
        const entries = byName.get(t.name) ?? [];
        const effective: Record<string, string> = {};
        const overrides: Record<string, string> = {};
        for (const e of entries) {
          if (e.configValue === null || e.configValue === undefined) continue;
          effective[e.configName] = e.configValue;
          if ((e as { configSource?: number }).configSource === TOPIC_CONFIG_SOURCE) {
            overrides[e.configName] = e.configValue;
          }
        }
        const first = t.partitions.find((p) => p.partitionId === 0) ?? t.partitions[0];
        return {
          name: t.name,
          partitions: t.partitions.length,
          replication: first?.replicas.length ?? 0,
          ready: t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
          configs: effective,
          overrides,
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async function endOffsets(topic: string): Promise<PartitionOffsets[]> {
    const offsets = await call('fetch end offsets', (a) => a.fetchTopicOffsets(topic), topic);
    return offsets
      .map((o) => ({ partition: o.partition, high: o.high, low: o.low }))
      .sort((a, b) => a.partition - b.partition);
  }

  async function groupOffsets(groupId: string, topics?: string[]) {
    const res = await call('fetch group offsets', (a) =>
      a.fetchOffsets(topics && topics.length > 0 ? { groupId, topics } : { groupId }),
    );
    return res.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset })),
    );
  }

  const api: HubAdmin = {
    start() {
      if (!started) {
        admin = kafka.admin();
        const connecting = admin;
        started = once('connect to Kafka', () => connecting.connect());
      }
      return started;
    },
    async close() {
      const a = admin;
      admin = undefined;
      started = undefined;
      if (a) await a.disconnect();
    },
    async cluster() {
      const c = await call('describe cluster', (a) => a.describeCluster());
      return { clusterId: c.clusterId, controller: c.controller ?? null, brokerCount: c.brokers.length };
    },
    async listTopicNames(options = {}) {
      const names = await call('list topics', (a) => a.listTopics());
      return names.filter((n) => options.includeInternal || !n.startsWith('__')).sort();
    },
    describeTopics,
    async createTopics(topics) {
      if (topics.length === 0) return;
      await once('create topics', (a) =>
        a.createTopics({
          // kafkajs' own leader wait gives up under load with UNKNOWN_TOPIC_OR_PARTITION; callers
          // that need the topic ready poll describeTopics instead (see topology/apply.ts).
          waitForLeaders: false,
          topics: topics.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions,
            replicationFactor: t.replication,
            configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
          })),
        }),
      );
    },
    async setTopicConfigs(topic, configs) {
      const [current] = await describeTopics([topic]);
      if (!current)
        throw new HubError('TOPIC_NOT_FOUND', `topic ${topic} does not exist`, { where: { topic } });
      // Non-incremental AlterConfigs (all kafkajs offers) drops every override not sent, so send them all.
      const merged = { ...current.overrides, ...configs };
      await call(
        'alter topic configs',
        (a) =>
          a.alterConfigs({
            validateOnly: false,
            resources: [
              {
                type: TOPIC_RESOURCE,
                name: topic,
                configEntries: Object.entries(merged).map(([name, value]) => ({ name, value })),
              },
            ],
          }),
        topic,
      );
    },
    async addPartitions(topic, count) {
      await once(
        'create partitions',
        (a) => a.createPartitions({ topicPartitions: [{ topic, count }] }),
        topic,
      );
    },
    async deleteTopics(names) {
      if (names.length === 0) return;
      await once('delete topics', (a) => a.deleteTopics({ topics: names }));
    },
    endOffsets,
    async listGroups() {
      const listed = await call('list consumer groups', (a) => a.listGroups());
      const ids = listed.groups.map((g) => g.groupId).sort();
      if (ids.length === 0) return [];
      const described = await call('describe consumer groups', (a) => a.describeGroups(ids));
      return described.groups
        .map((g) => ({
          groupId: g.groupId,
          protocolType: g.protocolType,
          state: g.state,
          members: g.members.length,
        }))
        .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
    },
    groupOffsets,
    async setGroupOffsets(groupId, topic, offsets) {
      await once('set group offsets', (a) => a.setOffsets({ groupId, topic, partitions: offsets }), topic);
    },
    async groupLag(groupId, topics) {
      const committed = await groupOffsets(groupId, topics);
      const topicNames = [...new Set(committed.map((c) => c.topic))].sort();
      const lags: PartitionLag[] = [];
      for (const topic of topicNames) {
        for (const end of await endOffsets(topic)) {
          const c = committed.find((x) => x.topic === topic && x.partition === end.partition);
          const hasCommit = c !== undefined && c.offset !== '-1';
          const from = hasCommit ? BigInt(c.offset) : BigInt(end.low);
          lags.push({
            topic,
            partition: end.partition,
            committed: hasCommit ? c.offset : null,
            end: end.high,
            lag: Number(BigInt(end.high) - from),
          });
        }
      }
      return lags;
    },
  };
  return api;
}
