import { hostname } from 'node:os';
import type { Logger } from '../core/logger.ts';
import { createTopicFollower, type HubContext } from '../platform/index.ts';
import { newEnvelope } from '../schemas/index.ts';
import { HEARTBEAT_EVENT_TYPE, INSTANCES_TOPIC } from './declaration.ts';

/**
 * The instance registry: every hub process heartbeats its identity and component states to the
 * compacted `_tributary.instances` topic (key: instance id) and writes a tombstone when it stops;
 * `tributary status` reads the topic back and calls an instance stale after three missed beats.
 */

export interface ComponentBeat {
  name: string;
  state: string;
  groups: string[];
  lag: number | null;
  deadLettered: number | null;
  breakers: Record<string, string>;
  statusJson: string;
}

export interface InstanceHeartbeatData {
  instanceId: string;
  host: string;
  pid: number;
  version: string;
  roles: string[];
  startedAt: number;
  heartbeatAt: number;
  intervalMs: number;
  state: string;
  httpUrl: string | null;
  components: ComponentBeat[];
}

export interface InstanceIdentity {
  instanceId: string;
  version: string;
  roles: string[];
  startedAt: number;
}

export interface Heartbeat {
  /** Publishes the first heartbeat (awaited: it proves Kafka is reachable), then one per interval. */
  start(): Promise<void>;
  /** Publishes one heartbeat now. */
  beat(): Promise<void>;
  /** Epoch ms of the last heartbeat Kafka acknowledged; 0 before the first. */
  lastAcknowledgedAt(): number;
  /** Stops beating and writes a tombstone so readers drop the instance at once. Idempotent. */
  close(): Promise<void>;
}

export interface HeartbeatOptions {
  hub: HubContext;
  identity: InstanceIdentity;
  intervalMs: number;
  topic?: string;
  /** The changing part of a heartbeat, taken at each beat. */
  snapshot: () => Promise<Pick<InstanceHeartbeatData, 'state' | 'httpUrl' | 'components'>>;
  logger: Logger;
}

/** Builds the heartbeat of one hub process. */
export function createHeartbeat(options: HeartbeatOptions): Heartbeat {
  const topic = options.topic ?? INSTANCES_TOPIC;
  const { identity } = options;
  const host = hostname();
  let timer: NodeJS.Timeout | undefined;
  let acknowledgedAt = 0;
  let inFlight: Promise<void> | undefined;
  let closed: Promise<void> | undefined;

  async function publishOnce(): Promise<void> {
    const now = Date.now();
    const data: InstanceHeartbeatData = {
      instanceId: identity.instanceId,
      host,
      pid: process.pid,
      version: identity.version,
      roles: identity.roles,
      startedAt: identity.startedAt,
      heartbeatAt: now,
      intervalMs: options.intervalMs,
      ...(await options.snapshot()),
    };
    const envelope = newEnvelope({
      type: HEARTBEAT_EVENT_TYPE,
      source: 'hub.runner',
      subject: identity.instanceId,
      actor: 'hub.runner',
      time: now,
    });
    await options.hub.producer.publish(topic, [{ envelope, data }]);
    acknowledgedAt = Date.now();
  }

  function beat(): Promise<void> {
    // One beat at a time: a slow broker must not pile up sends.
    inFlight ??= publishOnce().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  return {
    beat,
    lastAcknowledgedAt: () => acknowledgedAt,
    async start() {
      await beat();
      timer = setInterval(() => {
        beat().catch((err: unknown) => options.logger.warn({ err, topic }, 'heartbeat failed'));
      }, options.intervalMs);
      timer.unref();
    },
    close() {
      closed ??= (async () => {
        if (timer) clearInterval(timer);
        await inFlight?.catch(() => undefined);
        try {
          await options.hub.producer.publishRaw(topic, [{ key: identity.instanceId, value: null }]);
        } catch (err) {
          options.logger.warn({ err, topic }, 'could not write the instance tombstone');
        }
      })();
      return closed;
    },
  };
}

export interface InstanceView extends InstanceHeartbeatData {
  /** True when no heartbeat came for three intervals: the process is likely gone. */
  stale: boolean;
  ageMs: number;
}

/** Reads the registry to its end: the latest heartbeat of every instance that has not said goodbye. */
export async function readInstances(options: {
  hub: HubContext;
  topic?: string;
  now?: number;
  timeoutMs?: number;
}): Promise<InstanceView[]> {
  const topic = options.topic ?? INSTANCES_TOPIC;
  const latest = new Map<string, { partition: number; offset: string; value: Buffer }>();
  const follower = createTopicFollower({
    kafka: options.hub.kafka,
    topic,
    logger: options.hub.logger,
    onRecord: (r) => {
      const key = r.key?.toString('utf8');
      if (!key) return;
      if (r.value === null) latest.delete(key);
      else latest.set(key, { partition: r.partition, offset: r.offset, value: r.value });
    },
  });
  try {
    await follower.start();
    await follower.catchUp(options.timeoutMs ?? 30_000);
  } finally {
    await follower.close();
  }
  const now = options.now ?? Date.now();
  const views: InstanceView[] = [];
  for (const record of latest.values()) {
    let decoded: { value: unknown };
    try {
      decoded = await options.hub.serde.decode(record.value, {
        topic,
        partition: record.partition,
        offset: record.offset,
      });
    } catch (err) {
      options.hub.logger.warn({ err, topic, offset: record.offset }, 'skipping an undecodable heartbeat');
      continue;
    }
    const data = (decoded.value as { data: InstanceHeartbeatData }).data;
    const ageMs = Math.max(0, now - Number(data.heartbeatAt));
    views.push({ ...data, ageMs, stale: ageMs > 3 * data.intervalMs });
  }
  return views.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
}
