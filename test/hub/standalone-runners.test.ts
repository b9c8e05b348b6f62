import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { createKeyFile, generateAuditKeyFile } from '../../audit/keys.ts';
import { type DemoSystems, startDemoSystems } from '../../demo/index.ts';
import { INSTANCES_TOPIC } from '../../hub/declaration.ts';
import { type InstanceView, readInstances } from '../../hub/registry.ts';
import { createHubAdmin } from '../../platform/admin.ts';
import { ACTIONS_TOPIC, createHubContext, type HubContext } from '../../platform/index.ts';
import { applyTopology, planTopology, readActualTopics } from '../../topology/apply.ts';
import { buildHubTopology } from '../../topology/hub-topology.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { type CliProcess, logLinesWithDuplicates, runCli, startCli } from './cli-process.ts';

/**
 * The standalone runners, started as users start them (`bin/tributary ...` child processes),
 * are hub instances like `tributary up`: each heartbeats to the registry (`tributary status
 * --json` lists it with version, roles, component state, lag, breakers, DLQ counts), answers
 * /healthz, /readyz and /metrics on the port it prints, and on SIGTERM writes its tombstone,
 * closes gracefully and exits 0.
 */

const prefix = `${uniqueName('solo')}.`;
const registry = `${prefix}${INSTANCES_TOPIC}`;
const temps: string[] = [];
const children: CliProcess[] = [];
let systems: DemoSystems;
let hub: HubContext;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const kafka = testKafka();
  dir = await mkdtemp(join(tmpdir(), 'tributary-solo-'));
  temps.push(dir);
  systems = await startDemoSystems({ ports: { erp: 0, crm: 0, hr: 0 } });
  hub = await createHubContext({ env: kafka.env });
  // Every topic of the hub under the prefix, as `tributary up` (or `topology apply`) makes them.
  const admin = createHubAdmin(hub.kafka);
  await admin.start();
  const topology = buildHubTopology({ env: kafka.env, brokerCount: 1, prefix });
  await applyTopology(planTopology(topology, await readActualTopics(topology, admin)), admin, {
    prune: false,
  });
  await admin.close();
  env = {
    ...process.env,
    ...kafka.env,
    TRIBUTARY_HOME: dir,
    TRIBUTARY_TOPIC_PREFIX: prefix,
    TRIBUTARY_LOG_LEVEL: 'info',
    CRM_CLIENT_SECRET: systems.env.CRM_CLIENT_SECRET,
  };
}, 120_000);

afterAll(async () => {
  for (const c of children)
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  await hub?.close();
  await systems?.close();
  for (const d of temps) await rm(d, { recursive: true, force: true });
});

async function waitForInstances(
  check: (views: InstanceView[]) => boolean,
  what: () => string,
): Promise<InstanceView[]> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const views = await readInstances({ hub, topic: registry });
    if (check(views)) return views;
    if (Date.now() > deadline) throw new Error(`registry never showed ${what()}: ${JSON.stringify(views)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('standalone runners as child processes', () => {
  it('connectors run, processors run, audit run, mcp serve and ingress serve register, serve health and metrics, and leave on SIGTERM', {
    timeout: 240_000,
  }, async () => {
    const connectorsFile = join(dir, 'connectors.yaml');
    await writeFile(
      connectorsFile,
      stringifyYaml({
        crm: {
          topicPrefix: prefix,
          offsetsTopic: `${prefix}_tributary.source-offsets`,
          groupId: uniqueName('solo-crm'),
          pollIntervalMs: 500,
          http: {
            endpoints: { urls: [systems.crm.url] },
            auth: {
              type: 'oauth2-client-credentials',
              tokenUrl: `${systems.crm.url}/services/oauth2/token`,
              clientId: systems.crm.clientId,
              clientSecret: { env: 'CRM_CLIENT_SECRET' },
            },
          },
        },
      }),
    );
    const processorFile = join(dir, 'image.yaml');
    await writeFile(
      processorFile,
      stringifyYaml({ topicPrefix: prefix, groupId: uniqueName('solo-image'), blobDir: join(dir, 'blobs') }),
    );
    const keyFile = join(dir, 'audit-keys.json');
    await createKeyFile(keyFile, generateAuditKeyFile({ development: true }));

    const runners: Record<string, { args: string[]; components: string[] }> = {
      connectors: { args: ['connectors', 'run', 'crm', '-c', connectorsFile], components: ['connector.crm'] },
      processors: {
        args: ['processors', 'run', 'image', '--config', processorFile],
        components: ['processor.image'],
      },
      audit: {
        args: [
          'audit',
          'run',
          '--dir',
          join(dir, 'audit'),
          '--key-file',
          keyFile,
          '--topic',
          `${prefix}${ACTIONS_TOPIC}`,
          '--group',
          uniqueName('solo-audit'),
          // Two worker threads, each a member of the audit's group (audit/consumer-threads.ts).
          '--threads',
          '2',
        ],
        components: ['audit'],
      },
      bridge: { args: ['mcp', 'serve', '--port', '0'], components: ['mcp-bridge'] },
      ingress: { args: ['ingress', 'serve', '--port', '0', '--metrics-port', '0'], components: ['ingress'] },
    };
    const started = Object.entries(runners).map(([key, r]) => {
      const p = startCli(r.args, env);
      children.push(p);
      return { key, ...r, p };
    });
    const urls = new Map<string, string>();
    for (const s of started) urls.set(s.key, await s.p.opsUrl(120_000));

    const roles = started.flatMap((s) => s.components);
    const views = await waitForInstances(
      (vs) =>
        roles.every((role) =>
          vs.some((v) => v.roles.includes(role) && v.components.every((c) => c.state === 'running')),
        ),
      () => roles.join(', '),
    );
    const version = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'))
      .version as string;
    for (const s of started) {
      const view = views.find((v) => v.roles.includes(s.components[0] as string)) as InstanceView;
      expect(view.roles).toEqual(s.components);
      expect(view.version).toBe(version);
      expect(view.state).toBe('ready');
      expect(view.stale).toBe(false);
      expect(view.httpUrl).toBe(urls.get(s.key));
      const base = urls.get(s.key) as string;
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', reasons: [] });
      expect((await (await fetch(`${base}/healthz`)).json()).instanceId).toBe(view.instanceId);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      for (const name of s.components)
        expect(metrics).toMatch(new RegExp(`tributary_component_up\\{[^}]*component="${name}"[^}]*\\} 1`));
      expect(metrics).toContain('tributary_process_cpu_seconds_total');
    }
    const component = (name: string) =>
      views.flatMap((v) => v.components).find((c) => c.name === name) as InstanceView['components'][number];
    // Consumers report their groups' lag; the connector its breakers; the processor its DLQ count.
    for (const name of ['processor.image', 'audit', 'connector.crm'])
      expect(component(name).lag).toBeTypeOf('number');
    expect(Object.keys(component('connector.crm').breakers).length).toBeGreaterThan(0);
    expect(component('processor.image').deadLettered).toBe(0);
    // The audit runs on its two threads.
    expect((JSON.parse(component('audit').statusJson) as { threads: unknown[] }).threads).toHaveLength(2);
    // The bridge reports where it listens as bound (--port 0), not the configured port.
    const bridgeStatus = JSON.parse(component('mcp-bridge').statusJson) as { url: string; listening: string };
    expect(bridgeStatus.listening).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(bridgeStatus.listening).not.toMatch(/:0$/);
    expect((await fetch(`${bridgeStatus.url}/.well-known/oauth-protected-resource/mcp`)).status).toBe(200);

    // What an operator runs: `tributary status --json` lists all five.
    const status = await runCli(['status', '--json', '--topic', registry], env);
    expect(status.code, status.stderr).toBe(0);
    const listed = JSON.parse(status.stdout) as { instances: InstanceView[] };
    for (const role of roles) expect(listed.instances.some((i) => i.roles.includes(role))).toBe(true);

    for (const s of started) s.p.proc.kill('SIGTERM');
    for (const s of started) {
      expect(await s.p.exited(), `${s.key}: ${s.p.stderr().slice(-2000)}`).toBe(0);
      expect(s.p.stderr()).toContain('stopped cleanly');
      expect(logLinesWithDuplicates(s.p.stderr()).bad).toEqual([]);
    }
    // Tombstones: the registry no longer lists them.
    await waitForInstances(
      (vs) => !vs.some((v) => roles.some((r) => v.roles.includes(r))),
      () => 'all five gone',
    );
  });
});
