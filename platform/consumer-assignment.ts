import type { Logger } from '../core/logger.ts';

/** A partition this member was assigned. */
export interface AssignedPartition {
  topic: string;
  partition: number;
}

/**
 * Called after every group join with this member's whole assignment; answers where to start
 * reading partitions whose position is kept outside Kafka: `topic:partition` -> next offset.
 * Partitions it leaves out start at the group's committed offset.
 */
export type AssignmentHook = (assignment: AssignedPartition[]) => Promise<Map<string, string>>;

type Seek = (target: AssignedPartition & { offset: string }) => void;

/**
 * Asks the hook where to start after each join and registers the seeks. kafkajs applies a
 * seek before its next fetch and marks batches fetched before it stale, so a batch handler
 * that waits for `ready()` and skips stale batches never sees a record from the old position.
 */
export function createAssignmentSeeker(hook: AssignmentHook | undefined, seek: Seek, logger: Logger) {
  let assignment: AssignedPartition[] | undefined;
  let seeking: Promise<void> | undefined;

  const ask = (assigned: AssignedPartition[]): Promise<void> => {
    if (!hook) return Promise.resolve();
    const asking = hook(assigned).then((offsets) => {
      for (const [key, offset] of offsets) {
        // Topic names cannot hold ':', so the last one separates the partition.
        const at = key.lastIndexOf(':');
        const target = { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
        if (!assigned.some((a) => a.topic === target.topic && a.partition === target.partition)) continue;
        logger.debug({ ...target, offset }, 'seeking to the position kept outside Kafka');
        seek({ ...target, offset });
      }
    });
    // Awaited by ready() (batches and start()); never an "unhandled rejection" here.
    asking.catch(() => {});
    return asking;
  };

  return {
    /** Takes the member assignment of a GROUP_JOIN event. */
    joined(memberAssignment: Record<string, number[]>): void {
      assignment = Object.entries(memberAssignment).flatMap(([topic, partitions]) =>
        partitions.map((partition) => ({ topic, partition })),
      );
      seeking = ask(assignment);
    },
    /** Resolves once the latest join's seeks are registered; a failed hook is asked again next time. */
    async ready(): Promise<void> {
      const current = seeking;
      if (!current) return;
      try {
        await current;
      } catch (err) {
        if (seeking === current && assignment) seeking = ask(assignment);
        throw err;
      }
    },
  };
}
