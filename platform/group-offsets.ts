import type { Admin } from 'kafkajs';
import { HubError } from '../core/errors.ts';
import type { KafkaClient } from './kafka.ts';
import { fromKafkaError } from './kafka-errors.ts';
import { commitGroupOffsets } from './offset-commit.ts';
import { describeClientError, isRetriableClientError } from './producer-client.ts';

/** A consumer group as the coordinator sees it. */
export interface GroupState {
  groupId: string;
  /** `Empty`, `Stable`, `PreparingRebalance`, `CompletingRebalance`, `Dead`, ... */
  state: string;
  /** Client ids and hosts of the members; empty when the group is inactive. */
  members: { clientId: string; host: string }[];
}

/** Log bounds of one partition. */
export interface OffsetBounds {
  partition: number;
  /** Earliest offset still in the log. */
  low: string;
  /** Next offset to be written. */
  high: string;
}

/** The offset and group calls replays and dead-letter tools need, over one admin connection. */
export interface OffsetAdmin {
  start(): Promise<void>;
  close(): Promise<void>;
  topicExists(topic: string): Promise<boolean>;
  listTopics(): Promise<string[]>;
  bounds(topic: string): Promise<OffsetBounds[]>;
  /** Per partition, the first offset whose timestamp is >= `timeMs`; the end when none is. */
  offsetsAtTime(topic: string, timeMs: number): Promise<{ partition: number; offset: string }[]>;
  describeGroup(groupId: string): Promise<GroupState>;
  /** Committed offsets of a group on a topic; `-1` where it never committed. */
  committed(groupId: string, topic: string): Promise<{ partition: number; offset: string }[]>;
  /** Sets committed offsets; the broker refuses while the group has members. */
  commit(groupId: string, topic: string, offsets: { partition: number; offset: string }[]): Promise<void>;
}

/** Builds the admin wrapper; `start()` connects, `close()` is safe to call twice. */
export function createOffsetAdmin(kafka: KafkaClient): OffsetAdmin {
  let admin: Admin | undefined;
  let started: Promise<void> | undefined;

  async function call<T>(what: string, fn: (a: Admin) => Promise<T>, topic?: string): Promise<T> {
    if (!admin) throw new HubError('KAFKA_ADMIN_NOT_STARTED', 'the offset admin is used before start()');
    const a = admin;
    // Right after a create a broker may answer UNKNOWN_TOPIC for a moment: retry retriable reads.
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(a);
      } catch (err) {
        const e = fromKafkaError(err, 'KAFKA_ADMIN', topic ? { topic } : {});
        if (!e.retriable || attempt >= 5) {
          throw new HubError(e.code, `${what} failed: ${e.message}`, {
            retriable: e.retriable,
            cause: err,
            where: e.where,
            ...(e.hint ? { hint: e.hint } : {}),
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  const api: OffsetAdmin = {
    start() {
      if (!started) {
        const a = kafka.admin();
        admin = a;
        started = a.connect().catch((err: unknown) => {
          started = undefined;
          throw fromKafkaError(err, 'KAFKA_CONNECT');
        });
      }
      return started;
    },
    async close() {
      const a = admin;
      admin = undefined;
      started = undefined;
      if (a) await a.disconnect();
    },
    async listTopics() {
      return (await call('list topics', (a) => a.listTopics())).sort();
    },
    async topicExists(topic) {
      return (await api.listTopics()).includes(topic);
    },
    async bounds(topic) {
      const offsets = await call('fetch offsets', (a) => a.fetchTopicOffsets(topic), topic);
      return offsets
        .map((o) => ({ partition: o.partition, low: o.low, high: o.high }))
        .sort((x, y) => x.partition - y.partition);
    },
    async offsetsAtTime(topic, timeMs) {
      const offsets = await call(
        'fetch offsets by time',
        (a) => a.fetchTopicOffsetsByTimestamp(topic, timeMs),
        topic,
      );
      return offsets
        .map((o) => ({ partition: o.partition, offset: o.offset }))
        .sort((x, y) => x.partition - y.partition);
    },
    async describeGroup(groupId) {
      const { groups } = await call('describe group', (a) => a.describeGroups([groupId]));
      const g = groups[0];
      return {
        groupId,
        state: g?.state ?? 'Dead',
        members: (g?.members ?? []).map((m) => ({ clientId: m.clientId, host: m.clientHost })),
      };
    },
    async committed(groupId, topic) {
      const res = await call(
        'fetch group offsets',
        (a) => a.fetchOffsets({ groupId, topics: [topic] }),
        topic,
      );
      return (res.find((t) => t.topic === topic)?.partitions ?? [])
        .map((p) => ({ partition: p.partition, offset: p.offset }))
        .sort((x, y) => x.partition - y.partition);
    },
    async commit(groupId, topic, offsets) {
      if (offsets.length === 0) return;
      try {
        await commitGroupOffsets(kafka, groupId, topic, offsets);
      } catch (err) {
        throw new HubError('KAFKA_ADMIN', `set group offsets failed: ${describeClientError(err)}`, {
          retriable: isRetriableClientError(err),
          cause: err,
          where: { topic },
          hint: 'the broker refuses while the group has members: stop its consumers first',
        });
      }
    },
  };
  return api;
}
