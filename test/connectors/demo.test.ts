import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import {
  connectorDeclarations,
  createConnectorControl,
  type RunningConnector,
  runConnectors,
} from '../../connectors/index.ts';
import { silentLogger } from '../../core/logger.ts';
import { type DemoSystems, startDemoSystems } from '../../demo/index.ts';
import { createHubContext, type HubContext } from '../../platform/index.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { type Collected, collectTopic, createDeclaredTopics } from './support/topics.ts';

// The demo a newcomer starts: three seeded systems, all three connectors run by the CLI's runner,
// events on every entity topic, a live "business day", and pause/resume over the control topic.
let systems: DemoSystems;
let hub: HubContext;
let dir: string;

beforeAll(async () => {
  systems = await startDemoSystems({ ports: { erp: 0, crm: 0, hr: 0 }, changeEveryMs: 300 });
  dir = await mkdtemp(join(tmpdir(), 'h8-demo-'));
});
afterAll(async () => {
  await hub?.close();
  await systems?.close();
  await rm(dir, { recursive: true, force: true });
});

it('runs all three connectors against the demo systems and events flow on every topic', async () => {
  const tk = testKafka();
  hub = await createHubContext({ env: tk.env, schemaLogTopic: uniqueName('_tributary.schemas') });
  const prefix = `${uniqueName('demo')}.`;
  const offsetsTopic = uniqueName('_tributary.source-offsets');
  for (const d of connectorDeclarations)
    await createDeclaredTopics(tk.kafka, d as never, prefix, offsetsTopic);
  // The connectors read their secrets from the environment, as in production.
  process.env.CRM_CLIENT_SECRET = systems.env.CRM_CLIENT_SECRET;
  process.env.HR_SCIM_TOKEN = systems.env.HR_SCIM_TOKEN;
  const common = { topicPrefix: prefix, offsetsTopic, pollIntervalMs: 250, pageSize: 50 };
  const configFile = join(dir, 'connectors.yaml');
  const crmAuth = {
    type: 'oauth2-client-credentials',
    tokenUrl: `${systems.crm.url}/services/oauth2/token`,
    clientId: systems.crm.clientId,
    clientSecret: { env: 'CRM_CLIENT_SECRET' },
  };
  await writeFile(
    configFile,
    stringifyYaml({
      erp: { ...common, http: { endpoints: { urls: [systems.erp.url] } } },
      crm: { ...common, http: { endpoints: { urls: [systems.crm.url] }, auth: crmAuth } },
      hr: {
        ...common,
        http: {
          endpoints: { urls: [systems.hr.url] },
          auth: { type: 'bearer', token: { env: 'HR_SCIM_TOKEN' } },
        },
      },
    }),
  );
  const expected: Record<string, number> = {
    'erp.customer.changed': 10,
    'erp.sales-order.changed': 30,
    'erp.invoice.changed': 12,
    'crm.account.changed': 10,
    'crm.contact.changed': 25,
    'crm.opportunity.changed': 10,
    'hr.employee.changed': 20,
    'hr.group.changed': 4,
  };
  const collected = new Map<string, Collected>();
  for (const t of Object.keys(expected))
    collected.set(t, await collectTopic(tk.kafka, hub.serde, `${prefix}${t}`, uniqueName('c')));

  const stop = new AbortController();
  const controlTopic = uniqueName('_tributary.connector-control');
  let running: RunningConnector[] = [];
  const run = runConnectors(['erp', 'crm', 'hr'], {
    configFile,
    hub,
    logger: silentLogger(),
    controlTopic,
    signal: stop.signal,
    onStarted: (cs) => {
      running = cs;
    },
  });
  const deadline = Date.now() + 45_000;
  const distinct = (t: string) => new Set(collected.get(t)!.events.map((e) => e.envelope.subject)).size;
  while (Object.entries(expected).some(([t, n]) => distinct(t) < n)) {
    if (Date.now() > deadline)
      throw new Error(
        `events missing: ${Object.keys(expected)
          .map((t) => `${t}=${distinct(t)}`)
          .join(' ')}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const [t, n] of Object.entries(expected)) expect(distinct(t)).toBe(n);
  const order = collected.get('erp.sales-order.changed')!.events[0]!.data;
  expect(Array.isArray(order.items) && order.items.length).toBeGreaterThan(0);
  const employee = collected.get('hr.employee.changed')!.events.find((e) => e.data.managerId !== null)!.data;
  expect(String(employee.employeeNumber)).toMatch(/^7\d{3}$/);

  // The business day keeps changing records: more sales order events arrive without any restart.
  const before = collected.get('erp.sales-order.changed')!.events.length;
  while (collected.get('erp.sales-order.changed')!.events.length <= before) {
    if (Date.now() > deadline) throw new Error('no live change arrived');
    await new Promise((r) => setTimeout(r, 200));
  }

  // Operators pause and resume a running connector through the control topic.
  const actionsTopic = `${prefix}hub.actions`;
  const control = createConnectorControl({
    kafka: hub.kafka,
    producer: hub.producer,
    topic: controlTopic,
    actionsTopic,
  });
  await control.send('connector.crm', 'pause', 'test-operator');
  const crm = running[1]!;
  while ((crm.status().source as { state: string }).state !== 'paused')
    await new Promise((r) => setTimeout(r, 100));
  await control.send('connector.crm', 'resume', 'test-operator');
  while ((crm.status().source as { state: string }).state === 'paused')
    await new Promise((r) => setTimeout(r, 100));
  // Each request is audited once, with the operator who made it.
  const actions = await collectTopic(hub.kafka, hub.serde, actionsTopic, uniqueName('demo-actions'));
  collected.set(actionsTopic, actions);
  const requests = () =>
    actions.events
      .map((e) => e.data as { action: string; actor: string; resource: string })
      .filter((a) => a.action === 'connector.pause' || a.action === 'connector.resume');
  const auditedBy = Date.now() + 30_000;
  while (requests().length < 2) {
    if (Date.now() > auditedBy)
      throw new Error(`control requests not audited: ${JSON.stringify(requests())}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(requests()).toEqual(
    ['connector.pause', 'connector.resume'].map((action) => ({
      action,
      actor: 'test-operator',
      resource: 'connector.crm',
      outcome: 'succeeded',
      argsDigest: null,
      subjectId: null,
      details: { controlTopic },
    })),
  );

  stop.abort();
  await run;
  for (const c of collected.values()) await c.stop();
});
