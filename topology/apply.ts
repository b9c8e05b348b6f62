import { HubError } from '../core/errors.ts';
import type { HubAdmin, TopicState } from '../platform/admin.ts';
import type { TopicSpec, Topology } from './build.ts';

/**
 * Compares the desired topology with a cluster (planTopology, pure) and carries the plan out
 * (applyTopology). Apply only ever creates, raises configs to what is declared and adds
 * partitions; deleting needs `prune`, and even then only inside the hub's namespaces.
 */

export interface ConfigChange {
  name: string;
  /** Effective value on the broker now (undefined when the broker does not report it). */
  from: string | undefined;
  to: string;
}

export interface ConfigAlteration {
  topic: string;
  changes: ConfigChange[];
}

export interface PartitionAddition {
  topic: string;
  from: number;
  to: number;
}

/** A difference apply cannot fix by itself; a person decides (recreate the topic, reassign replicas). */
export interface Drift {
  topic: string;
  kind: 'fewer-partitions' | 'replication';
  declared: number;
  actual: number;
  message: string;
}

export interface TopologyPlan {
  create: TopicSpec[];
  alter: ConfigAlteration[];
  addPartitions: PartitionAddition[];
  drift: Drift[];
  /** Topics inside the hub's namespaces that no declaration owns; deleted only with prune. */
  pruneCandidates: string[];
}

/** Pure: what it takes to bring `actual` (the cluster's topics) to `desired`. */
export function planTopology(desired: Topology, actual: readonly TopicState[]): TopologyPlan {
  const actualByName = new Map(actual.map((t) => [t.name, t]));
  const plan: TopologyPlan = { create: [], alter: [], addPartitions: [], drift: [], pruneCandidates: [] };
  for (const topic of desired.topics) {
    const now = actualByName.get(topic.name);
    if (!now) {
      plan.create.push(topic);
      continue;
    }
    const changes = Object.entries(topic.configs)
      .filter(([name, value]) => now.configs[name] !== value)
      // Never demand more in-sync replicas than the topic has: acks=all writes would all fail.
      .filter(([name, value]) => name !== 'min.insync.replicas' || Number(value) <= now.replication)
      .map(([name, to]) => ({ name, from: now.configs[name], to }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    if (changes.length > 0) plan.alter.push({ topic: topic.name, changes });
    if (now.partitions < topic.partitions) {
      plan.addPartitions.push({ topic: topic.name, from: now.partitions, to: topic.partitions });
    } else if (now.partitions > topic.partitions) {
      plan.drift.push({
        topic: topic.name,
        kind: 'fewer-partitions',
        declared: topic.partitions,
        actual: now.partitions,
        message: `declares ${topic.partitions} partitions but has ${now.partitions}; Kafka cannot remove partitions (recreate the topic or raise the declaration)`,
      });
    }
    if (now.replication !== topic.replication) {
      plan.drift.push({
        topic: topic.name,
        kind: 'replication',
        declared: topic.replication,
        actual: now.replication,
        message: `declares replication ${topic.replication} but has ${now.replication}; change it with a partition reassignment (kafka-reassign-partitions) or set TRIBUTARY_REPLICATION`,
      });
    }
  }
  const declared = new Set(desired.topics.map((t) => t.name));
  plan.pruneCandidates = actual
    .map((t) => t.name)
    .filter((name) => !declared.has(name) && isPrunable(name, desired.namespaces))
    .sort();
  return plan;
}

/**
 * Only topics in the hub's namespaces, never broker internals (`__*`) and never `_tributary.*`:
 * the platform creates internal state topics there at run time (e.g. per-group idempotency
 * logs) that no declaration lists, and deleting state is not something a tidy-up may do.
 */
export function isPrunable(name: string, namespaces: readonly string[]): boolean {
  if (name.startsWith('__')) return false;
  return namespaces.some((ns) => name.startsWith(ns) && !ns.endsWith('_tributary.'));
}

/** True when the plan would change nothing on the cluster (drift and prune candidates aside). */
export function planIsEmpty(plan: TopologyPlan, options: { prune?: boolean } = {}): boolean {
  return (
    plan.create.length === 0 &&
    plan.alter.length === 0 &&
    plan.addPartitions.length === 0 &&
    (!options.prune || plan.pruneCandidates.length === 0)
  );
}

/** One line per change, in the order apply performs them; what the CLI prints. */
export function describePlan(plan: TopologyPlan, options: { prune?: boolean } = {}): string[] {
  const lines: string[] = [];
  for (const t of plan.create) {
    lines.push(
      `create ${t.name} (partitions=${t.partitions} replication=${t.replication} cleanup.policy=${t.cleanupPolicy} retention.ms=${t.retentionMs})`,
    );
  }
  for (const a of plan.alter) {
    lines.push(
      `alter ${a.topic}: ${a.changes.map((c) => `${c.name} ${c.from ?? '(unset)'} -> ${c.to}`).join(', ')}`,
    );
  }
  for (const p of plan.addPartitions) lines.push(`add partitions ${p.topic}: ${p.from} -> ${p.to}`);
  if (options.prune) {
    for (const name of plan.pruneCandidates) lines.push(`delete ${name} (not declared)`);
  } else if (plan.pruneCandidates.length > 0) {
    // One line, not one per topic: a shared dev cluster can hold hundreds of test topics.
    const shown = plan.pruneCandidates.slice(0, 5).join(', ');
    const more = plan.pruneCandidates.length - 5;
    lines.push(`not declared, kept (--prune deletes them): ${shown}${more > 0 ? `, and ${more} more` : ''}`);
  }
  for (const d of plan.drift) lines.push(`drift ${d.topic}: ${d.message}`);
  return lines;
}

export interface ApplyOptions {
  dryRun?: boolean;
  prune?: boolean;
  /** Called once per change as it is made (or would be, on a dry run). */
  onChange?: (line: string) => void;
  /** How long to wait for the brokers to show every change (metadata propagates asynchronously). */
  settleTimeoutMs?: number;
}

export interface ApplyResult {
  dryRun: boolean;
  created: string[];
  altered: string[];
  partitionsAdded: string[];
  deleted: string[];
  drift: Drift[];
  /** True when the cluster was (or on a dry run, would be) changed. */
  changed: boolean;
}

/** Carries out a plan. Never deletes unless `prune`; a dry run only reports. */
export async function applyTopology(
  plan: TopologyPlan,
  admin: HubAdmin,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const dryRun = options.dryRun ?? false;
  const prune = options.prune ?? false;
  const say = options.onChange ?? (() => {});
  const prefix = dryRun ? '[dry-run] ' : '';
  const result: ApplyResult = {
    dryRun,
    created: [],
    altered: [],
    partitionsAdded: [],
    deleted: [],
    drift: plan.drift,
    changed: !planIsEmpty(plan, { prune }),
  };
  for (const line of describePlan(plan, { prune })) say(prefix + line);
  if (dryRun) return result;

  if (plan.create.length > 0) {
    await admin.createTopics(
      plan.create.map((t) => ({
        name: t.name,
        partitions: t.partitions,
        replication: t.replication,
        configs: t.configs,
      })),
    );
    result.created = plan.create.map((t) => t.name);
  }
  for (const a of plan.alter) {
    await admin.setTopicConfigs(a.topic, Object.fromEntries(a.changes.map((c) => [c.name, c.to])));
    result.altered.push(a.topic);
  }
  for (const p of plan.addPartitions) {
    await admin.addPartitions(p.topic, p.to);
    result.partitionsAdded.push(p.topic);
  }
  if (prune && plan.pruneCandidates.length > 0) {
    await admin.deleteTopics(plan.pruneCandidates);
    result.deleted = [...plan.pruneCandidates];
  }
  await waitUntilVisible(plan, result.deleted, admin, options.settleTimeoutMs ?? 15_000);
  return result;
}

/**
 * Waits until a broker reports what the plan changed. In KRaft the controller commits a change
 * before every broker has seen it, and an apply that returned early would let the next apply
 * (or a producer) see the old state and do the work twice.
 */
async function waitUntilVisible(
  plan: TopologyPlan,
  deleted: readonly string[],
  admin: HubAdmin,
  timeoutMs: number,
): Promise<void> {
  const touched = [
    ...plan.create.map((t) => t.name),
    ...plan.alter.map((a) => a.topic),
    ...plan.addPartitions.map((p) => p.topic),
  ];
  if (touched.length === 0 && deleted.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    let pending = true;
    try {
      const live = new Map((await admin.describeTopics([...new Set(touched)])).map((t) => [t.name, t]));
      pending =
        plan.create.some((t) => live.get(t.name)?.partitions !== t.partitions || !live.get(t.name)?.ready) ||
        plan.alter.some((a) => a.changes.some((c) => live.get(a.topic)?.configs[c.name] !== c.to)) ||
        plan.addPartitions.some((p) => live.get(p.topic)?.partitions !== p.to || !live.get(p.topic)?.ready) ||
        (deleted.length > 0 && (await admin.listTopicNames()).some((n) => deleted.includes(n)));
    } catch (err) {
      // A topic created a moment ago may not have a leader yet; that is what we are waiting for.
      if (!(err instanceof HubError && err.retriable)) throw err;
      lastError = err;
    }
    if (!pending) return;
    if (Date.now() > deadline) {
      throw new HubError(
        'TOPOLOGY_NOT_VISIBLE',
        `the brokers did not show the applied changes within ${timeoutMs} ms`,
        {
          retriable: true,
          hint: 'run apply again; it only does what is still missing',
          ...(lastError ? { cause: lastError } : {}),
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Reads the cluster's side of the plan: every declared topic plus every topic in the hub's namespaces. */
export async function readActualTopics(desired: Topology, admin: HubAdmin): Promise<TopicState[]> {
  const names = await admin.listTopicNames();
  const declared = new Set(desired.topics.map((t) => t.name));
  return admin.describeTopics(names.filter((n) => declared.has(n) || isPrunable(n, desired.namespaces)));
}
