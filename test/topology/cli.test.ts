import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerTopologyCommands, type TopologyCommandOptions } from '../../cli/commands/topology.ts';
import { HubError, UsageError } from '../../core/errors.ts';
import type { HubAdmin } from '../../platform/admin.ts';
import { hubDeclarations } from '../../topology/declarations.ts';
import { buildHubTopology, catalogSchemaCheck } from '../../topology/hub-topology.ts';
import { testKafka } from '../support/kafka.ts';
import { brokerAdmin, dropPrefixed, randomPrefix, testDeclarations } from './fixtures.ts';

let admin: HubAdmin;
let dir: string;
const prefixes: string[] = [];

beforeAll(async () => {
  admin = brokerAdmin();
  await admin.start();
  dir = await mkdtemp(path.join(tmpdir(), 'tributary-topology-'));
});

afterAll(async () => {
  for (const p of prefixes) await dropPrefixed(admin, p);
  await admin.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs `tributary <args>` with the topology commands; returns what they printed. */
async function run(args: string[], options: Omit<TopologyCommandOptions, 'write'>): Promise<string> {
  let out = '';
  const program = new Command('tributary').exitOverride();
  registerTopologyCommands(program, { env: testKafka().env, ...options, write: (t) => (out += t) });
  await program.parseAsync(args, { from: 'user' });
  return out;
}

function freshPrefix(): string {
  const p = randomPrefix();
  prefixes.push(p);
  return p;
}

describe('tributary topology', { timeout: 40_000 }, () => {
  it('apply creates the real hub topology from the declarations, and a second apply reports no change', async () => {
    const prefix = freshPrefix();
    const expected = buildHubTopology({ prefix, schemaExists: await catalogSchemaCheck() });
    expect(expected.topics.length).toBeGreaterThan(0);
    const first = await run(['topology', 'apply'], { prefix });
    for (const t of expected.topics) expect(first).toContain(`create ${t.name} `);
    const live = await admin.describeTopics(expected.topics.map((t) => t.name));
    expect(live.map((t) => t.name)).toEqual(expected.topics.map((t) => t.name));
    for (const t of expected.topics) {
      const state = live.find((l) => l.name === t.name);
      expect(state?.configs['cleanup.policy'], t.name).toBe(t.cleanupPolicy);
      expect(state?.configs['retention.ms'], t.name).toBe(String(t.retentionMs));
      expect(state?.partitions, t.name).toBe(t.partitions);
    }
    const second = await run(['topology', 'apply'], { prefix });
    expect(second).toBe(`no changes (${expected.topics.length} topics up to date)\n`);
    // Every component of the hub is in the declarations list the CLI reads.
    expect(expected.components.map((c) => c.name).sort()).toEqual(hubDeclarations.map((d) => d.name).sort());
  });

  it('takes the topic prefix from TRIBUTARY_TOPIC_PREFIX, as tributary up does', async () => {
    const prefix = freshPrefix();
    const options = { env: { ...testKafka().env, TRIBUTARY_TOPIC_PREFIX: prefix }, schemaExists: () => true };
    const dry = await run(['topology', 'apply', '--dry-run'], {
      ...options,
      declarations: testDeclarations(),
    });
    const created = dry.split('\n').filter((l) => l.startsWith('[dry-run] create '));
    expect(created.length).toBeGreaterThan(0);
    for (const line of created)
      expect(line.slice('[dry-run] create '.length)).toMatch(new RegExp(`^${prefix.replaceAll('.', '\\.')}`));
  });

  it('apply --dry-run prints the plan and creates nothing; drift fails with TOPOLOGY_DRIFT', async () => {
    const prefix = freshPrefix();
    const options = { prefix, declarations: testDeclarations(), schemaExists: () => true };
    const dry = await run(['topology', 'apply', '--dry-run'], options);
    expect(dry).toMatch(/^\[dry-run\] create /);
    expect((await admin.listTopicNames()).filter((n) => n.startsWith(prefix))).toEqual([]);

    await run(['topology', 'apply'], {
      ...options,
      declarations: testDeclarations({ contactPartitions: 4 }),
    });
    const drifted = run(['topology', 'apply'], {
      ...options,
      declarations: testDeclarations({ contactPartitions: 2 }),
    });
    await expect(drifted).rejects.toBeInstanceOf(HubError);
    await expect(drifted).rejects.toMatchObject({ code: 'TOPOLOGY_DRIFT' });
  });

  it('apply refuses a replication larger than the cluster before touching it', async () => {
    const prefix = freshPrefix();
    const options = { prefix, declarations: testDeclarations(), schemaExists: () => true };
    const { brokerCount } = await admin.cluster();
    const env = { ...testKafka().env, TRIBUTARY_REPLICATION: String(brokerCount + 1) };
    await expect(run(['topology', 'apply'], { ...options, env })).rejects.toMatchObject({
      code: 'TOPOLOGY_REPLICATION',
    });
    expect((await admin.listTopicNames()).filter((n) => n.startsWith(prefix))).toEqual([]);
  });

  it('graph writes Mermaid, SVG and PNG; an unknown format is a usage error', async () => {
    const options = { declarations: testDeclarations(), schemaExists: () => true };
    const mermaid = await run(['topology', 'graph'], options);
    expect(mermaid).toContain('flowchart LR');
    expect(mermaid).toContain('"connector.crm"');
    const lean = await run(['topology', 'graph', '--no-derived'], options);
    expect(mermaid).toContain('.dlq');
    expect(lean).not.toContain('.dlq');
    const svgFile = path.join(dir, 'topology.svg');
    await run(['topology', 'graph', '--format', 'svg', '--out', svgFile], options);
    expect(await readFile(svgFile, 'utf8')).toContain('<svg');
    const pngFile = path.join(dir, 'topology.png');
    const said = await run(['topology', 'graph', '--format', 'png', '--out', pngFile], options);
    expect(said).toContain(`wrote ${pngFile} (png`);
    expect((await readFile(pngFile)).subarray(1, 4).toString()).toBe('PNG');
    await expect(run(['topology', 'graph', '--format', 'gif'], options)).rejects.toBeInstanceOf(UsageError);
  });

  it('list prints every declared topic with its settings', async () => {
    const out = await run(['topology', 'list'], {
      declarations: testDeclarations(),
      schemaExists: () => true,
    });
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^TOPIC\s+PARTITIONS\s+CLEANUP\s+RETENTION MS\s+VALUE SCHEMA\s+PRODUCERS\s+CONSUMERS$/,
    );
    expect(lines.length).toBe(1 + 9);
    expect(out).toMatch(/_tributary\.schemas\s+1\s+compact\s+-1\s+tributary\.ops\.SchemaRecord\s+hub\s+hub/);
  });
});
