import type { HubAdmin } from '../platform/admin.ts';
import type { Topology } from './build.ts';

/**
 * Live view of the declared topics: partitions, end offsets and the lag of every consumer
 * group that has committed on them. Read-only; safe against a production cluster.
 */

export interface GroupLag {
  groupId: string;
  /** Sum over the topic's partitions. */
  lag: number;
}

export interface TopicDescription {
  name: string;
  exists: boolean;
  declaredPartitions: number;
  /** Partitions on the broker (0 when the topic does not exist). */
  partitions: number;
  /** Sum of the partitions' log end offsets: records ever written (compaction aside). */
  endOffset: number;
  groups: GroupLag[];
}

/** Reads end offsets and per-group lag for every topic in the topology. */
export async function describeTopology(topology: Topology, admin: HubAdmin): Promise<TopicDescription[]> {
  const names = topology.topics.map((t) => t.name);
  const existing = new Map((await admin.describeTopics(names)).map((t) => [t.name, t]));
  const ends = new Map<string, Map<number, bigint>>();
  await inBatches([...existing.keys()], async (name) => {
    ends.set(name, new Map((await admin.endOffsets(name)).map((p) => [p.partition, BigInt(p.high)])));
  });
  // One request per group, asking only for the declared topics that exist.
  const lagByTopic = new Map<string, GroupLag[]>();
  const liveNames = [...existing.keys()];
  if (liveNames.length > 0) {
    // A busy cluster has thousands of groups: ask several at a time, not one after another.
    await inBatches(await admin.listGroups(), async (group) => {
      const sums = new Map<string, bigint>();
      for (const c of await admin.groupOffsets(group.groupId, liveNames)) {
        if (c.offset === '-1') continue;
        const end = ends.get(c.topic)?.get(c.partition) ?? 0n;
        const lag = end > BigInt(c.offset) ? end - BigInt(c.offset) : 0n;
        sums.set(c.topic, (sums.get(c.topic) ?? 0n) + lag);
      }
      for (const [topic, lag] of sums) {
        const list = lagByTopic.get(topic) ?? [];
        list.push({ groupId: group.groupId, lag: Number(lag) });
        lagByTopic.set(topic, list);
      }
    });
  }
  const rows: TopicDescription[] = [];
  for (const t of topology.topics) {
    const live = existing.get(t.name);
    let endOffset = 0n;
    for (const high of ends.get(t.name)?.values() ?? []) endOffset += high;
    rows.push({
      name: t.name,
      exists: live !== undefined,
      declaredPartitions: t.partitions,
      partitions: live?.partitions ?? 0,
      endOffset: Number(endOffset),
      groups: (lagByTopic.get(t.name) ?? []).sort((a, b) => (a.groupId < b.groupId ? -1 : 1)),
    });
  }
  return rows;
}

/** Runs `work` over `items`, at most `width` at a time. */
async function inBatches<T>(
  items: readonly T[],
  work: (item: T) => Promise<void>,
  width = 16,
): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(work));
}

/** A plain-text table, one line per topic and one indented line per consumer group. */
export function formatTopicTable(rows: readonly TopicDescription[]): string {
  const header = ['TOPIC', 'PARTITIONS', 'END OFFSET', 'GROUP', 'LAG'];
  const table: string[][] = [header];
  for (const r of rows) {
    const parts = r.exists
      ? r.partitions === r.declaredPartitions
        ? String(r.partitions)
        : `${r.partitions} (declared ${r.declaredPartitions})`
      : `missing (declared ${r.declaredPartitions})`;
    const [first, ...rest] = r.groups;
    table.push([
      r.name,
      parts,
      r.exists ? String(r.endOffset) : '-',
      first?.groupId ?? '-',
      first ? String(first.lag) : '-',
    ]);
    for (const g of rest) table.push(['', '', '', g.groupId, String(g.lag)]);
  }
  return formatColumns(table);
}

/** Left-aligned columns separated by two spaces. */
export function formatColumns(table: readonly string[][]): string {
  const widths: number[] = [];
  for (const row of table) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return `${table
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
