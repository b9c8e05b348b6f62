import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crmConnector } from '../../connectors/crm/declaration.ts';
import type { RunningConnector } from '../../connectors/runtime/connector.ts';
import { silentLogger } from '../../core/logger.ts';
import { type CrmServer, crmConnectorHttp, startCrmServer } from '../../demo/crm-server/server.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { createHubContext, type HubContext } from '../../platform/index.ts';
import { createDeclaredTopics } from '../connectors/support/topics.ts';
import { startTestBridge, type TestBridge } from '../hub-tools/bridge.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

// A connector lookup as an agent makes it: SDK client -> crm.account.get tool -> command event
// on Kafka -> the CRM connector's sink asks the (demo) CRM -> result event -> structuredContent.

let crm: CrmServer;
let hub: HubContext;
let connector: RunningConnector;
let bridge: TestBridge;
let analyst: Client;

beforeAll(async () => {
  const tk = testKafka();
  crm = await startCrmServer();
  hub = await createHubContext({ env: tk.env, schemaLogTopic: uniqueName('_tributary.schemas') });
  const prefix = `${uniqueName('bridge-lookup')}.`;
  const offsetsTopic = uniqueName('_tributary.source-offsets');
  await createDeclaredTopics(tk.kafka, crmConnector as ComponentDeclaration<unknown>, prefix, offsetsTopic);
  connector = crmConnector.create(
    crmConnector.config.parse({
      source: false,
      topicPrefix: prefix,
      offsetsTopic,
      groupId: uniqueName('crm-sink'),
      apiVersion: crm.apiVersion,
      http: crmConnectorHttp(crm),
    }),
    { logger: silentLogger(), hub },
  ) as RunningConnector;
  await connector.start();
  bridge = await startTestBridge({
    hub,
    declarations: [crmConnector as ComponentDeclaration<unknown>],
    topicPrefix: prefix,
  });
  // The default policy lets analysts run lookups (`*.get`) but not changes.
  analyst = await bridge.connect('analyst');
}, 90_000);

afterAll(async () => {
  await bridge?.close();
  await connector?.close();
  await hub?.close();
  await crm?.close();
});

describe('connector lookups as MCP tools', () => {
  it('crm.account.get is derived from the declaration and answers through Kafka and the connector', async () => {
    const tools = (await analyst.listTools()).tools;
    const tool = tools.find((t) => t.name === 'crm.account.get');
    expect(tool?.inputSchema.properties).toHaveProperty('key');
    expect(tool?.outputSchema?.properties).toHaveProperty('record');
    expect(tools.map((t) => t.name)).not.toContain('crm.account.upsert');

    const ext = uniqueName('EXT');
    const row = crm.put('Account', { Name: 'Bridge Lookup SA', ExtId__c: ext, BillingCity: 'Lyon' });
    const found = await analyst.callTool({
      name: 'crm.account.get',
      arguments: { key: ext, by: 'externalId' },
    });
    expect(found.isError).toBeFalsy();
    expect(found.structuredContent).toMatchObject({
      key: ext,
      outcome: 'succeeded',
      found: true,
      systemId: row.Id,
      record: { accountId: row.Id, externalId: ext, name: 'Bridge Lookup SA', billingCity: 'Lyon' },
    });

    const missing = await analyst.callTool({ name: 'crm.account.get', arguments: { key: 'no-such-ext' } });
    expect(missing.structuredContent).toMatchObject({ key: 'no-such-ext', found: false, record: null });
  });
});
