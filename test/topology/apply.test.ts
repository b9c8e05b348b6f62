import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubAdmin } from '../../platform/admin.ts';
import { applyTopology, planIsEmpty, planTopology, readActualTopics } from '../../topology/apply.ts';
import { buildTopology, type Topology } from '../../topology/build.ts';
import { brokerAdmin, dropPrefixed, type FixtureTweaks, randomPrefix, testDeclarations } from './fixtures.ts';

// A real broker: KAFKA_BROKERS (the dev broker, or the shared harness). Each test has its own prefix.
let admin: HubAdmin;
const prefixes: string[] = [];

beforeAll(async () => {
  admin = brokerAdmin();
  await admin.start();
});

afterAll(async () => {
  for (const p of prefixes) await dropPrefixed(admin, p);
  await admin.close();
});

function topologyFor(prefix: string, tweaks: FixtureTweaks = {}, replication = 1): Topology {
  return buildTopology(testDeclarations(tweaks), { prefix, defaults: { replication, partitions: 2 } });
}

async function apply(topology: Topology, options: { dryRun?: boolean; prune?: boolean } = {}) {
  const plan = planTopology(topology, await readActualTopics(topology, admin));
  const lines: string[] = [];
  const result = await applyTopology(plan, admin, { ...options, onChange: (l) => lines.push(l) });
  return { plan, result, lines };
}

function freshPrefix(): string {
  const p = randomPrefix();
  prefixes.push(p);
  return p;
}

describe('applyTopology on a real broker', () => {
  it('creates every topic with the declared settings, and a second apply changes nothing', async () => {
    const prefix = freshPrefix();
    const topology = topologyFor(prefix, { contactRetentionMs: 3_600_000 });
    const first = await apply(topology);
    expect(first.result.created.sort()).toEqual(topology.topics.map((t) => t.name).sort());
    expect(first.lines.filter((l) => l.startsWith('create ')).length).toBe(topology.topics.length);

    const live = new Map(
      (await admin.describeTopics(topology.topics.map((t) => t.name))).map((t) => [t.name, t]),
    );
    for (const t of topology.topics) {
      const state = live.get(t.name);
      expect(state, t.name).toBeDefined();
      expect(state?.partitions, t.name).toBe(t.partitions);
      expect(state?.replication, t.name).toBe(1);
      expect(state?.configs['cleanup.policy'], t.name).toBe(t.cleanupPolicy);
      expect(state?.configs['retention.ms'], t.name).toBe(String(t.retentionMs));
    }
    expect(live.get(`${prefix}crm.contact.changed`)?.overrides['retention.ms']).toBe('3600000');
    expect(live.get(`${prefix}_tributary.schemas`)?.configs['cleanup.policy']).toBe('compact');

    const second = await apply(topology);
    expect(second.result.changed).toBe(false);
    expect(second.lines).toEqual([]);
    expect(planIsEmpty(second.plan, { prune: true })).toBe(true);
  });

  it('alters a changed config and keeps the other overrides', async () => {
    const prefix = freshPrefix();
    await apply(topologyFor(prefix, { contactRetentionMs: 3_600_000 }));
    const changed = topologyFor(prefix, { contactRetentionMs: 7_200_000 });
    const { plan, result, lines } = await apply(changed);
    expect(plan.alter).toEqual([
      {
        topic: `${prefix}crm.contact.changed`,
        changes: [{ name: 'retention.ms', from: '3600000', to: '7200000' }],
      },
    ]);
    expect(result.altered).toEqual([`${prefix}crm.contact.changed`]);
    expect(lines).toEqual([`alter ${prefix}crm.contact.changed: retention.ms 3600000 -> 7200000`]);
    const [state] = await admin.describeTopics([`${prefix}crm.contact.changed`]);
    expect(state?.configs['retention.ms']).toBe('7200000');
    // Non-incremental AlterConfigs would have dropped this override had we not resent it.
    expect(state?.overrides['cleanup.policy']).toBe('delete');
    expect((await apply(changed)).result.changed).toBe(false);
  });

  it('adds partitions when more are declared, and reports fewer as drift it cannot fix', async () => {
    const prefix = freshPrefix();
    const name = `${prefix}crm.contact.changed`;
    await apply(topologyFor(prefix, { contactPartitions: 2 }));
    const more = await apply(topologyFor(prefix, { contactPartitions: 4 }));
    // The dead-letter topic follows its source's partitions, so a key keeps its partition there too.
    expect(more.plan.addPartitions).toEqual([
      { topic: name, from: 2, to: 4 },
      { topic: `${name}.dlq`, from: 2, to: 4 },
    ]);
    expect((await admin.describeTopics([name]))[0]?.partitions).toBe(4);

    const fewer = await apply(topologyFor(prefix, { contactPartitions: 3 }));
    expect(fewer.result.changed).toBe(false);
    expect(fewer.result.drift).toMatchObject([
      { topic: name, kind: 'fewer-partitions', declared: 3, actual: 4 },
      { topic: `${name}.dlq`, kind: 'fewer-partitions', declared: 3, actual: 4 },
    ]);
    expect(fewer.lines[0]).toMatch(/^drift \S+crm\.contact\.changed: declares 3 partitions but has 4/);
    expect((await admin.describeTopics([name]))[0]?.partitions).toBe(4);
  });

  it('reports a replication different from the declared one as drift', async () => {
    const prefix = freshPrefix();
    await apply(topologyFor(prefix));
    const plan = planTopology(topologyFor(prefix, {}, 3), await readActualTopics(topologyFor(prefix), admin));
    expect(plan.drift.length).toBe(topologyFor(prefix).topics.length);
    expect(plan.drift.every((d) => d.kind === 'replication' && d.declared === 3 && d.actual === 1)).toBe(
      true,
    );
    // Replication 3 wants min.insync.replicas=2, which a one-replica topic could never satisfy.
    expect(topologyFor(prefix, {}, 3).topics[0]?.configs['min.insync.replicas']).toBe('2');
    expect(plan.alter).toEqual([]);
  });

  it('changes nothing on a dry run', async () => {
    const prefix = freshPrefix();
    const topology = topologyFor(prefix, { extraTopic: 'crm.account.changed' });
    const { result, lines } = await apply(topology, { dryRun: true });
    expect(result.dryRun).toBe(true);
    expect(result.changed).toBe(true);
    expect(result.created).toEqual([]);
    expect(lines.length).toBe(topology.topics.length);
    expect(lines.every((l) => l.startsWith('[dry-run] create '))).toBe(true);
    expect((await admin.listTopicNames()).filter((n) => n.startsWith(prefix))).toEqual([]);
  });

  it('deletes undeclared topics in the hub namespaces only with prune', async () => {
    const prefix = freshPrefix();
    await apply(topologyFor(prefix, { extraTopic: 'crm.account.changed' }));
    // crm.account.changed was declared, then dropped from the declarations. Next to it: a topic
    // outside the hub namespaces, and runtime state the platform creates undeclared.
    await admin.createTopics([
      { name: `${prefix}elsewhere.thing.happened`, partitions: 1, replication: 1, configs: {} },
      { name: `${prefix}_tributary.applied.some-group`, partitions: 1, replication: 1, configs: {} },
    ]);
    const topology = topologyFor(prefix);
    const kept = await apply(topology);
    expect(kept.plan.pruneCandidates).toEqual([`${prefix}crm.account.changed`]);
    expect(kept.result.deleted).toEqual([]);
    expect(kept.result.changed).toBe(false);
    expect(kept.lines).toEqual([`not declared, kept (--prune deletes them): ${prefix}crm.account.changed`]);
    expect(await admin.listTopicNames()).toContain(`${prefix}crm.account.changed`);

    const pruned = await apply(topology, { prune: true });
    expect(pruned.result.deleted).toEqual([`${prefix}crm.account.changed`]);
    const left = await admin.listTopicNames();
    expect(left).not.toContain(`${prefix}crm.account.changed`);
    expect(left).toContain(`${prefix}elsewhere.thing.happened`);
    expect(left.filter((n) => n.startsWith(prefix)).sort()).toEqual(
      [
        ...topology.topics.map((t) => t.name),
        `${prefix}elsewhere.thing.happened`,
        `${prefix}_tributary.applied.some-group`,
      ].sort(),
    );
  });
});
