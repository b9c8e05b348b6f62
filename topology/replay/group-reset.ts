import { HubError } from '../../core/errors.ts';
import { createOffsetAdmin } from '../../platform/group-offsets.ts';
import type { ActionEmitter, KafkaClient } from '../../platform/index.ts';
import { formatPosition, type PositionSpec, resolvePosition } from './positions.ts';

/** One partition of a group reset: where the group is and where it will be. */
export interface GroupResetLine {
  partition: number;
  /** Committed offset, or null when the group never committed on this partition. */
  current: string | null;
  next: string;
}

export interface GroupResetResult {
  groupId: string;
  topic: string;
  to: string;
  /** Coordinator state before the reset (`Empty`, `Dead` for a group never seen, ...). */
  state: string;
  /** Members at planning time; a dry run reports them, a real reset refuses when any. */
  members: { clientId: string; host: string }[];
  partitions: GroupResetLine[];
  applied: boolean;
}

/**
 * Moves an inactive consumer group's committed offsets on `topic` to a time or an offset, as
 * `kafka-consumer-groups --reset-offsets --to-datetime/--to-offset --execute` does: after it,
 * the group's consumers re-deliver every record from that point. Refuses a group with members
 * (REPLAY_GROUP_ACTIVE): offsets of a running group would be overwritten by its next commit.
 */
export async function resetGroupOffsets(options: {
  kafka: KafkaClient;
  groupId: string;
  topic: string;
  to: PositionSpec;
  dryRun?: boolean;
  actions?: ActionEmitter;
  actor: string;
}): Promise<GroupResetResult> {
  const { groupId, topic } = options;
  const admin = createOffsetAdmin(options.kafka);
  await admin.start();
  try {
    if (!(await admin.topicExists(topic))) {
      throw new HubError('REPLAY_TOPIC_MISSING', `topic ${topic} does not exist`, {
        where: { topic },
        hint: 'check the topic name (tributary topology list)',
      });
    }
    const group = await admin.describeGroup(groupId);
    const targets = await resolvePosition(admin, topic, options.to, 'earliest');
    const committed = new Map((await admin.committed(groupId, topic)).map((c) => [c.partition, c.offset]));
    const result: GroupResetResult = {
      groupId,
      topic,
      to: formatPosition(options.to),
      state: group.state,
      members: group.members,
      // A per-partition spec moves only the partitions it names; the others keep their offsets.
      partitions: [...targets]
        .filter(([partition]) => options.to.kind !== 'partitions' || options.to.offsets.has(partition))
        .map(([partition, next]) => {
          const current = committed.get(partition);
          return { partition, current: current === undefined || current === '-1' ? null : current, next };
        }),
      applied: false,
    };
    if (options.dryRun) return result;
    if (group.members.length > 0) {
      const who = group.members.map((m) => `${m.clientId}@${m.host}`).join(', ');
      throw new HubError(
        'REPLAY_GROUP_ACTIVE',
        `consumer group ${groupId} is active (${group.state}, ${group.members.length} member(s): ${who}); its offsets cannot be reset while it consumes`,
        {
          where: { topic, group: groupId },
          hint: `stop every consumer of group ${groupId} (or wait until it is Empty), then run the replay again; --dry-run shows the plan meanwhile`,
        },
      );
    }
    const details = { mode: 'group', group: groupId, to: result.to, partitions: result.partitions.length };
    await options.actions?.emit({
      action: 'replay.start',
      actor: options.actor,
      resource: topic,
      outcome: 'succeeded',
      details,
    });
    try {
      await admin.commit(
        groupId,
        topic,
        result.partitions.map((p) => ({ partition: p.partition, offset: p.next })),
      );
    } catch (err) {
      await options.actions
        ?.emit({
          action: 'replay.finished',
          actor: options.actor,
          resource: topic,
          outcome: 'failed',
          details,
        })
        .catch(() => undefined);
      throw err;
    }
    // Re-delivered records: what lies between the new positions and the log end.
    const ends = new Map((await admin.bounds(topic)).map((b) => [b.partition, b.high]));
    const redelivered = result.partitions.reduce(
      (n, p) => n + Number(BigInt(ends.get(p.partition) ?? p.next) - BigInt(p.next)),
      0,
    );
    await options.actions?.emit({
      action: 'replay.finished',
      actor: options.actor,
      resource: topic,
      outcome: 'succeeded',
      details: { ...details, redelivered },
    });
    return { ...result, applied: true };
  } finally {
    await admin.close();
  }
}
