import { afterAll, beforeAll, expect, it } from 'vitest';
import { crmConnector } from '../../connectors/crm/declaration.ts';
import type { RunningConnector } from '../../connectors/runtime/connector.ts';
import { changeEventId } from '../../connectors/runtime/event-id.ts';
import { silentLogger } from '../../core/logger.ts';
import { type CrmServer, crmConnectorHttp, startCrmServer } from '../../demo/crm-server/server.ts';
import { createHubContext, type HubContext } from '../../platform/index.ts';
import { createTopicsAndWait, testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { collectTopic, createDeclaredTopics } from './support/topics.ts';

// Source offsets move only after Kafka acknowledged the batch; a change read again keeps its id.
let crm: CrmServer;
let hub: HubContext;

beforeAll(async () => {
  crm = await startCrmServer();
});
afterAll(async () => {
  await hub?.close();
  await crm?.close();
});

it('commits no offset for a batch Kafka refused, and re-reads changes with the same event ids', async () => {
  const tk = testKafka();
  hub = await createHubContext({ env: tk.env, schemaLogTopic: uniqueName('_tributary.schemas') });
  for (let i = 0; i < 5; i++) crm.put('Account', { Name: `Offsets ${i}`, ExtId__c: `OFF-${i}` });
  const prefix = `${uniqueName('offsets')}.`;
  const offsetsTopic = uniqueName('_tributary.source-offsets');
  const config = (crmConnector.config as unknown as { parse(v: unknown): never }).parse({
    http: crmConnectorHttp(crm),
    entities: ['account'],
    topicPrefix: prefix,
    offsetsTopic,
    sink: false,
    pageSize: 2,
  });
  const make = () => crmConnector.create(config, { logger: silentLogger(), hub }) as RunningConnector;

  // The event topic does not exist yet: publishing fails, so the cursor must not move.
  const admin = tk.kafka.admin();
  await admin.connect();
  await createTopicsAndWait(admin, {
    topics: [
      {
        topic: offsetsTopic,
        numPartitions: 1,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ],
  });
  await admin.disconnect();
  const early = make();
  await early.offsets.start();
  await expect(early.source!.syncOnce()).rejects.toMatchObject({ retriable: expect.any(Boolean) });
  expect(early.offsets.get('connector.crm/account')).toBeUndefined();
  await early.close();

  await createDeclaredTopics(tk.kafka, crmConnector as never, prefix, offsetsTopic);
  const events = await collectTopic(tk.kafka, hub.serde, `${prefix}crm.account.changed`, uniqueName('c'));
  const first = make();
  await first.offsets.start();
  await first.source!.syncOnce();
  const rows = [...crm.records.get('Account')!.values()];
  const last = rows[rows.length - 1]!;
  expect(first.offsets.get('connector.crm/account')).toEqual({ stamp: last.SystemModstamp, key: last.Id });
  // Reset to the beginning, as `tributary connectors offsets reset crm --to earliest` does.
  await first.offsets.commit('connector.crm/account', null);
  await first.source!.syncOnce();
  await first.close();
  const deadline = Date.now() + 20_000;
  while (events.events.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await events.stop();
  expect(events.events).toHaveLength(10);
  const ids = events.events.map((e) => e.envelope.id);
  expect(new Set(ids).size).toBe(5);
  // Each change arrived twice (two partitions interleave, so compare counts, not order).
  for (const id of new Set(ids)) expect(ids.filter((x) => x === id)).toHaveLength(2);
  expect(new Set(ids)).toEqual(
    new Set(rows.map((r) => changeEventId('crm', 'account', r.Id, r.SystemModstamp))),
  );
});

/** A CRM source-only connector whose HTTP client does not retry (the stream fails at once). */
async function failFastConnector(overrides: Record<string, unknown> = {}): Promise<RunningConnector> {
  const tk = testKafka();
  hub ??= await createHubContext({ env: tk.env, schemaLogTopic: uniqueName('_tributary.schemas') });
  const prefix = `${uniqueName('heal')}.`;
  const offsetsTopic = uniqueName('_tributary.source-offsets');
  await createDeclaredTopics(tk.kafka, crmConnector as never, prefix, offsetsTopic);
  const config = (crmConnector.config as unknown as { parse(v: unknown): never }).parse({
    http: {
      endpoints: {
        urls: [crm.url],
        breaker: {
          volumeThreshold: 100,
          errorThresholdPercentage: 100,
          resetTimeoutMs: 1_000,
          rollingWindowMs: 10_000,
        },
      },
      auth: {
        type: 'oauth2-client-credentials',
        tokenUrl: `${crm.url}/services/oauth2/token`,
        clientId: crm.clientId,
        clientSecret: { value: crm.clientSecret },
      },
      retry: { retries: 0 },
    },
    entities: ['account'],
    topicPrefix: prefix,
    offsetsTopic,
    sink: false,
    pollIntervalMs: 100,
    ...overrides,
  });
  return crmConnector.create(config, { logger: silentLogger(), hub }) as RunningConnector;
}

const accountStream = (connector: RunningConnector) =>
  (
    connector.status().source as {
      streams: { account: { failures: number; lastError: string | null; published: number } };
    }
  ).streams.account;

it('restarts a failing stream by itself with backoff and catches up once the system answers', async () => {
  crm.faults.inject({ kind: 'status', status: 503 }, 1_000, (req) => String(req.url).includes('/query'));
  const connector = await failFastConnector();
  await connector.start();
  const stream = () => accountStream(connector);
  while (stream().failures < 2) await new Promise((r) => setTimeout(r, 50));
  expect(stream().lastError).toMatch(/HTTP_UNAVAILABLE/);
  crm.faults.clear();
  const total = crm.records.get('Account')!.size;
  const deadline = Date.now() + 20_000;
  while (stream().published < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(stream().published).toBe(total);
  expect(stream().lastError).toBeNull();
  await connector.close();
});

it('waits as long as its restart setting says before syncing a failed stream again', async () => {
  crm.faults.inject({ kind: 'status', status: 503 }, 1_000, (req) => String(req.url).includes('/query'));
  // At least 30 s before the next try (half the step is fixed): none within the 3 s below, where
  // the default (0.5 s doubling) would have tried about three more times.
  const connector = await failFastConnector({ restart: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
  try {
    await connector.start();
    while (accountStream(connector).failures < 1) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 3_000));
    expect(accountStream(connector).failures).toBe(1);
  } finally {
    crm.faults.clear();
    await connector.close();
  }
});
