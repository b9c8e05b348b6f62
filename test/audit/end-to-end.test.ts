import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditConsumer, createAuditConsumer } from '../../audit/consumer.ts';
import type { AuditEntry } from '../../audit/entry.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { readAuditEntries, type ShownEntry } from '../../audit/show.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { verifyChain } from '../../audit/verify.ts';
import { crmConnector } from '../../connectors/crm/declaration.ts';
import type { RunningConnector } from '../../connectors/runtime/connector.ts';
import { silentLogger } from '../../core/logger.ts';
import { type CrmServer, crmConnectorHttp, startCrmServer } from '../../demo/crm-server/server.ts';
import { createMcpBridge, type McpBridge } from '../../mcp-bridge/component.ts';
import { ACTIONS_TOPIC, createActionEmitter } from '../../platform/index.ts';
import { imageProcessorDeclaration } from '../../processors/image/declaration.ts';
import { upsertLocalUser } from '../../security/index.ts';
import { createDeclaredTopics } from '../connectors/support/topics.ts';
import { startProcessorHarness } from '../processors/kafka-harness.ts';
import { uniqueName } from '../support/names.ts';
import { type TestRedis, useTestRedis } from '../support/redis.ts';
import { waitFor } from './kafka-support.ts';
import { makeKeys, tempDir } from './support.ts';

/**
 * The whole hub reporting to one audit: a CRM connector syncs accounts from the demo CRM, an
 * agent logs in to the MCP bridge and calls `image.analyze`, which the image processor answers.
 * Every component emits its actions to one (prefixed) action topic; the audit consumer records
 * them, and the chain holds every one of them and verifies with its bodies decrypted.
 */
describe('audit of an end-to-end flow (connector sync, processor job, MCP call)', () => {
  let harness: Awaited<ReturnType<typeof startProcessorHarness>>;
  let crm: CrmServer;
  let connector: RunningConnector | undefined;
  let bridge: McpBridge | undefined;
  let audit: AuditConsumer | undefined;
  let testRedis: TestRedis;
  let redis: Redis;
  let dir: string;
  let cleanup: () => Promise<void>;
  let offsetsTopic: string;

  beforeAll(async () => {
    harness = await startProcessorHarness([imageProcessorDeclaration]);
    crm = await startCrmServer();
    testRedis = await useTestRedis();
    redis = new Redis(testRedis.url, { maxRetriesPerRequest: 2 });
    ({ dir, cleanup } = await tempDir());
    offsetsTopic = uniqueName('_tributary.source-offsets');
    await createDeclaredTopics(harness.hub.kafka, crmConnector as never, harness.prefix, offsetsTopic);
  });

  afterAll(async () => {
    await audit?.close();
    await bridge?.close();
    await connector?.close();
    redis?.disconnect();
    await testRedis?.release();
    await crm?.close();
    const admin = harness?.hub.kafka.admin();
    if (admin) {
      await admin.connect();
      const mine = (await admin.listTopics()).filter(
        (t) => t === offsetsTopic || (t.startsWith(harness.prefix) && t.includes('crm.')),
      );
      await admin.deleteTopics({ topics: mine }).catch(() => undefined);
      await admin.disconnect();
    }
    await harness?.close();
    await cleanup?.();
  });

  it('records every action of the flow in the chain, and the chain verifies', async () => {
    const actionsTopic = harness.prefix + ACTIONS_TOPIC;
    const { keys } = makeKeys();
    audit = createAuditConsumer(
      { dir, topic: actionsTopic, groupId: uniqueName('audit-g'), checkpointEvery: 3, fsync: true },
      { kafka: harness.hub.kafka, serde: harness.hub.serde, keys },
    );
    await audit.start();

    // 1. A connector sync: accounts created in the CRM are published, each page audited.
    for (let i = 0; i < 9; i++)
      crm.put('Account', { Name: `E2E ${i}`, ExtId__c: `E2E-${i}`, AnnualRevenue: 1000 + i });
    connector = crmConnector.create(
      crmConnector.config.parse({
        http: crmConnectorHttp(crm),
        apiVersion: crm.apiVersion,
        entities: ['account'],
        sink: false,
        topicPrefix: harness.prefix,
        offsetsTopic,
        pageSize: 5,
        pollIntervalMs: 60_000,
      }),
      { logger: silentLogger(), hub: harness.hub },
    ) as RunningConnector;
    await connector.start();

    // 2. An MCP call through the bridge (login first), answered by the real image processor.
    await harness.start(imageProcessorDeclaration);
    const usersFile = join(dir, 'users.json');
    await upsertLocalUser(usersFile, 'erin', 'erin-secret-7', ['analysts']);
    bridge = createMcpBridge(
      {
        port: 0,
        topicPrefix: harness.prefix,
        redisKeyPrefix: `${uniqueName('bridge')}:`,
        signingKeyFile: join(dir, 'bridge-key.pem'),
        usersFile,
      },
      {
        hub: harness.hub,
        declarations: [imageProcessorDeclaration],
        logger: silentLogger(),
        redis,
        // The bridge's own emitter, pointed at this test's action topic.
        emitAction: createActionEmitter({
          producer: harness.hub.producer,
          source: 'mcp-bridge',
          topic: actionsTopic,
        }).emit,
      },
    );
    const { url, resourceUrl } = await bridge.start();
    const login = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'erin', password: 'erin-secret-7' }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const agent = new Client({ name: 'e2e-agent', version: '1.0.0' });
    await agent.connect(
      new StreamableHTTPClientTransport(new URL(resourceUrl), {
        requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
      }),
    );
    const png = await sharp({ create: { width: 9, height: 4, channels: 3, background: '#aa3300' } })
      .png()
      .toBuffer();
    const image = await harness.blobs.put(png, 'image/png');
    try {
      const result = await agent.callTool({
        name: 'image.analyze',
        arguments: { image: { ...image }, analyses: ['objects'] },
      });
      expect(result.structuredContent).toMatchObject({ status: 'succeeded', facts: { width: 9 } });
      // An analyst may not publish events: a denied call is audited too.
      await expect(
        agent.callTool({ name: 'events.publish', arguments: { topic: 'x', type: 'y', data: {} } }),
      ).rejects.toThrow(/not permitted/);
    } finally {
      await agent.close();
    }

    // Everything reached the chain: 2 sync pages (5 + 4 accounts), login, 2 tool calls, 1 result.
    const store = createSegmentStore({ dir });
    const entries = async () => {
      const out: AuditEntry[] = [];
      for await (const shown of readAuditEntries(store)) out.push(shown.entry);
      return out;
    };
    const has = (list: AuditEntry[], action: string, n = 1) =>
      list.filter((e) => e.action === action).length >= n;
    await waitFor('every action of the flow recorded', async () => {
      const list = await entries();
      return (
        has(list, 'connector.sync.batch', 2) &&
        has(list, 'auth.login') &&
        has(list, 'mcp.tool.call', 2) &&
        has(list, 'processor.result')
      );
    });
    await audit.close();

    const subjectKeys = await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys);
    const shown: ShownEntry[] = [];
    for await (const e of readAuditEntries(store, { decrypt: { keys, subjectKeys } })) shown.push(e);
    const find = (action: string, resource?: string) =>
      shown.filter((s) => s.entry.action === action && (!resource || s.entry.resource === resource));

    const syncs = find('connector.sync.batch', `${harness.prefix}crm.account.changed`);
    expect(syncs.map((s) => s.entry)).toMatchObject([
      { actor: 'connector.crm', component: 'connector.crm', outcome: 'succeeded' },
      { actor: 'connector.crm', component: 'connector.crm', outcome: 'succeeded' },
    ]);
    const published = syncs.map((s) => (s.body as { details: Record<string, string> }).details.published);
    expect(published.map(Number).reduce((a, b) => a + b, 0)).toBe(9);

    expect(find('auth.login').map((s) => s.entry)).toMatchObject([
      { actor: 'erin', component: 'mcp-bridge', outcome: 'succeeded' },
    ]);
    const [call] = find('mcp.tool.call', 'image.analyze');
    expect(call?.entry).toMatchObject({ actor: 'erin', component: 'mcp-bridge', outcome: 'succeeded' });
    expect(call?.body).toMatchObject({ argsDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(find('mcp.tool.call', 'events.publish').map((s) => s.entry)).toMatchObject([
      { actor: 'erin', outcome: 'denied' },
    ]);
    const [result] = find('processor.result');
    expect(result?.entry).toMatchObject({
      actor: 'erin',
      component: 'processor.image',
      outcome: 'succeeded',
    });
    expect(result?.body).toMatchObject({ details: { command: 'image.analyze', analyses: 'objects' } });

    // Every record of the action topic is in the chain exactly once, in offset order.
    expect(shown.every((s) => s.entry.action !== 'audit.record.undecodable')).toBe(true);
    expect(shown.map((s) => s.entry.source.offset)).toEqual(shown.map((_, i) => String(i)));

    const report = await verifyChain(store, keys, { decrypt: true, subjectKeys });
    expect(report).toMatchObject({ ok: true });
    expect(report.chains.reduce((n, c) => n + c.decrypted, 0)).toBe(shown.length);
    expect(report.chains.every((c) => c.unsealed === 0 && c.checkpoints > 0)).toBe(true);
  });
});
