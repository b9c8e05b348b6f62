import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditConsumer, createAuditConsumer } from '../../audit/consumer.ts';
import { crmConnector } from '../../connectors/crm/declaration.ts';
import type { RunningConnector } from '../../connectors/runtime/connector.ts';
import { silentLogger } from '../../core/logger.ts';
import { type CrmServer, crmConnectorHttp, startCrmServer } from '../../demo/crm-server/server.ts';
import { createMcpBridge, type McpBridge } from '../../mcp-bridge/component.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { ACTIONS_TOPIC, createHubContext, type HubContext } from '../../platform/index.ts';
import { createLocalUsersDirectory, upsertLocalUser } from '../../security/index.ts';
import { waitFor } from '../audit/kafka-support.ts';
import { makeKeys } from '../audit/support.ts';
import { createDeclaredTopics } from '../connectors/support/topics.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { type TestRedis, useTestRedis } from '../support/redis.ts';
import {
  childOf,
  describeSpans,
  ids,
  newTraceparent,
  parseTraceparent,
  recordTopics,
  type SeenRecord,
  useMemorySpans,
} from './support.ts';

/**
 * One MCP tool call followed end to end, every part real: an SDK client calls `crm.account.get`
 * with a traceparent in `params._meta`; the bridge publishes the command on Kafka; the CRM
 * connector's sink asks the demo CRM over HTTP and publishes the result; the bridge's reply
 * router hands it back; both emit audit actions, which the audit consumer appends. The spans
 * (in-memory exporter behind the hub's provider) form one trace under the caller's span, and
 * the Kafka headers and the CRM's request carry it.
 */

let memory: Awaited<ReturnType<typeof useMemorySpans>>;
let crm: CrmServer;
let hub: HubContext;
let connector: RunningConnector;
let bridge: McpBridge;
let audit: AuditConsumer;
let testRedis: TestRedis;
let redis: Redis;
let dir: string;
let prefix: string;
let sinkGroup: string;
let auditGroup: string;
let reader: Awaited<ReturnType<typeof recordTopics>>;
const crmTraceparents: { path: string; traceparent: string | undefined }[] = [];

beforeAll(async () => {
  memory = await useMemorySpans();
  const tk = testKafka();
  crm = await startCrmServer();
  // The CRM's own view of each request: the fault gate's matcher sees the raw request and never arms.
  crm.faults.inject({ kind: 'slow', delayMs: 0 }, Number.MAX_SAFE_INTEGER, (req) => {
    const value = req.headers.traceparent;
    crmTraceparents.push({ path: req.url ?? '', traceparent: Array.isArray(value) ? value[0] : value });
    return false;
  });
  hub = await createHubContext({ env: tk.env, schemaLogTopic: uniqueName('_tributary.schemas') });
  prefix = `${uniqueName('trace-mcp')}.`;
  const offsetsTopic = uniqueName('_tributary.source-offsets');
  await createDeclaredTopics(tk.kafka, crmConnector as ComponentDeclaration<unknown>, prefix, offsetsTopic);
  sinkGroup = uniqueName('crm-sink');
  connector = crmConnector.create(
    crmConnector.config.parse({
      source: false,
      topicPrefix: prefix,
      offsetsTopic,
      groupId: sinkGroup,
      apiVersion: crm.apiVersion,
      http: crmConnectorHttp(crm),
    }),
    { logger: silentLogger(), hub },
  ) as RunningConnector;
  await connector.start();

  dir = await mkdtemp(join(tmpdir(), 'tributary-trace-'));
  auditGroup = uniqueName('audit');
  audit = createAuditConsumer(
    { dir: join(dir, 'audit'), topic: prefix + ACTIONS_TOPIC, groupId: auditGroup },
    { kafka: hub.kafka, serde: hub.serde, keys: makeKeys().keys },
  );
  await audit.start();

  const usersFile = join(dir, 'users.json');
  await upsertLocalUser(usersFile, 'ana', 'ana-secret-42', ['analysts']);
  testRedis = await useTestRedis();
  redis = new Redis(testRedis.url, { maxRetriesPerRequest: 2 });
  // No emitAction override: the bridge emits its audit actions to the (prefixed) action topic.
  bridge = createMcpBridge(
    {
      port: 0,
      topicPrefix: prefix,
      redisKeyPrefix: `${uniqueName('bridge')}:`,
      signingKeyFile: join(dir, 'signing-key.pem'),
      usersFile,
      toolTimeoutMs: 30_000,
    },
    {
      hub,
      declarations: [crmConnector as ComponentDeclaration<unknown>],
      logger: silentLogger(),
      redis,
      directory: createLocalUsersDirectory(usersFile),
    },
  );
  await bridge.start();
  reader = await recordTopics(tk.kafka, hub.serde, [
    `${prefix}crm.account.get.cmd`,
    `${prefix}crm.account.get.res`,
    prefix + ACTIONS_TOPIC,
  ]);
}, 120_000);

afterAll(async () => {
  await reader?.stop();
  await bridge?.close();
  await audit?.close();
  await connector?.close();
  redis?.disconnect();
  await testRedis?.release();
  await hub?.close();
  await crm?.close();
  await memory?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function connectAs(username: string, password: string): Promise<Client> {
  const { url, resourceUrl } = await bridge.start();
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  expect(res.status).toBe(200);
  const { accessToken } = (await res.json()) as { accessToken: string };
  const client = new Client({ name: 'trace-agent', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(resourceUrl), {
      requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
    }),
  );
  return client;
}

const spanNamed = (spans: readonly ReadableSpan[], name: string, traceId: string) =>
  spans.filter((s) => s.name === name && s.spanContext().traceId === traceId);

describe('tracing one MCP tool call end to end', () => {
  it('keeps the caller trace through the bridge, Kafka, the connector, the CRM, the reply and the audit', async () => {
    const caller = newTraceparent();
    const ext = uniqueName('EXT');
    const row = crm.put('Account', { Name: 'Traced SA', ExtId__c: ext, BillingCity: 'Gent' });
    const agent = await connectAs('ana', 'ana-secret-42');
    let result: Awaited<ReturnType<Client['callTool']>>;
    try {
      result = await agent.callTool({
        name: 'crm.account.get',
        arguments: { key: ext, by: 'externalId' },
        _meta: { traceparent: caller.header, tracestate: 'agent=7' },
      });
    } finally {
      await agent.close();
    }
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ key: ext, found: true, systemId: row.Id });

    const cmdTopic = `${prefix}crm.account.get.cmd`;
    const resTopic = `${prefix}crm.account.get.res`;
    const actionsTopic = prefix + ACTIONS_TOPIC;
    const inTrace = (r: SeenRecord) =>
      r.traceparent !== undefined && parseTraceparent(r.traceparent).traceId === caller.traceId;
    const actionsOfCall = () =>
      reader.records.filter((r) => r.topic === actionsTopic && inTrace(r)).map((r) => r.event.data.action);
    await waitFor('the command, the result and both audit actions on Kafka', () => {
      const actions = actionsOfCall();
      return (
        reader.records.some((r) => r.topic === cmdTopic) &&
        reader.records.some((r) => r.topic === resTopic) &&
        actions.includes('mcp.tool.call') &&
        actions.includes('connector.lookup')
      );
    });
    const spans = () => memory.spans();
    const appended = () =>
      reader.records
        .filter((r) => r.topic === actionsTopic && inTrace(r))
        .every((r) => spans().some((s) => s.name === 'audit.append' && appendCovers(spans(), s, r)));
    await waitFor('the audit appended both actions of the call', appended).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; spans:\n${describeSpans(spans())}`);
    });

    // The Kafka records: command and result carry the caller's trace id (and its tracestate).
    const [command] = reader.records.filter((r) => r.topic === cmdTopic);
    const [reply] = reader.records.filter((r) => r.topic === resTopic);
    expect(parseTraceparent(command?.traceparent).traceId).toBe(caller.traceId);
    expect(command?.tracestate).toBe('agent=7');
    expect(parseTraceparent(reply?.traceparent).traceId).toBe(caller.traceId);
    expect(reply?.event.envelope.correlationId).toBe(command?.event.envelope.correlationId);
    // The login happened outside any trace and its action carries none.
    const login = reader.records.find(
      (r) => r.topic === actionsTopic && r.event.data.action === 'auth.login',
    );
    expect(login?.traceparent).toBeUndefined();

    // The span tree, parent by parent, all in the caller's trace.
    const all = spans();
    const [server] = spanNamed(all, 'tools/call crm.account.get', caller.traceId);
    expect(server).toBeDefined();
    expect(ids(server!).parentId).toBe(caller.spanId);
    expect(server!.kind).toBe(1); // SERVER
    expect(server!.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'crm.account.get',
    });
    expect(server!.attributes['tributary.correlation.id']).toBe(command?.event.envelope.correlationId);

    const sendCommand = childOf(all, server!, `send ${cmdTopic}`);
    expect(sendCommand.kind).toBe(3); // PRODUCER
    expect(parseTraceparent(command?.traceparent).parentId).toBe(ids(sendCommand).spanId);

    const processCommand = childOf(all, sendCommand, `process ${cmdTopic}`);
    expect(processCommand.kind).toBe(4); // CONSUMER
    expect(processCommand.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': cmdTopic,
      'messaging.destination.partition.id': String(command?.partition),
      'messaging.kafka.offset': Number(command?.offset),
      'messaging.consumer.group.name': sinkGroup,
      'messaging.message.id': command?.event.envelope.id,
    });
    const handle = childOf(all, processCommand, 'command crm.account.get');

    // The CRM got a traceparent naming the connector's CLIENT span.
    const [httpCall] = all.filter((s) => s.kind === 2 && s.parentSpanContext?.spanId === ids(handle).spanId);
    expect(httpCall?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
    });
    const atCrm = crmTraceparents.filter(
      (t) => t.traceparent && parseTraceparent(t.traceparent).traceId === caller.traceId,
    );
    expect(atCrm.length).toBeGreaterThan(0);
    expect(atCrm.map((t) => parseTraceparent(t.traceparent).parentId)).toContain(ids(httpCall!).spanId);

    const sendResult = childOf(all, handle, `send ${resTopic}`);
    expect(parseTraceparent(reply?.traceparent).parentId).toBe(ids(sendResult).spanId);
    // The bridge's reply router took the result in the same trace.
    const processReply = childOf(all, sendResult, `process ${resTopic}`);
    expect(processReply.attributes['messaging.consumer.group.name']).toMatch(
      /^_tributary\.mcp-bridge\.replies\./,
    );

    // Both audit actions: sent under the span that caused them, appended by the audit consumer.
    const actions = reader.records.filter((r) => r.topic === actionsTopic && inTrace(r));
    const lookupAction = actions.find((r) => r.event.data.action === 'connector.lookup');
    const callAction = actions.find((r) => r.event.data.action === 'mcp.tool.call');
    expect(callAction?.event.data).toMatchObject({ outcome: 'succeeded', actor: 'ana' });
    const sendLookupAction = all.find(
      (s) => ids(s).spanId === parseTraceparent(lookupAction?.traceparent).parentId,
    );
    const sendCallAction = all.find(
      (s) => ids(s).spanId === parseTraceparent(callAction?.traceparent).parentId,
    );
    expect(sendLookupAction?.name).toBe(`send ${actionsTopic}`);
    expect(sendLookupAction?.parentSpanContext?.spanId).toBe(ids(handle).spanId);
    expect(sendCallAction?.name).toBe(`send ${actionsTopic}`);
    expect(sendCallAction?.parentSpanContext?.spanId).toBe(ids(server!).spanId);
    for (const action of [lookupAction!, callAction!]) {
      const append = all.find((s) => s.name === 'audit.append' && appendCovers(all, s, action));
      expect(append, `audit.append of ${action.event.data.action}`).toBeDefined();
    }

    // Every span of the call is in one trace, and each one's parent is in it too.
    const trace = all.filter((s) => s.spanContext().traceId === caller.traceId);
    const known = new Set([caller.spanId, ...trace.map((s) => ids(s).spanId)]);
    expect(trace.every((s) => known.has(ids(s).parentId ?? ''))).toBe(true);
    expect(trace.length).toBeGreaterThanOrEqual(10);
  });
});

/**
 * True when the audit consumer's batch span above `append` took `record`: its parent is the
 * record's producer span (a batch of that trace alone) or one of its links names it.
 */
function appendCovers(spans: readonly ReadableSpan[], append: ReadableSpan, record: SeenRecord): boolean {
  const batch = spans.find((s) => s.spanContext().spanId === append.parentSpanContext?.spanId);
  if (batch?.kind !== 4 || record.traceparent === undefined) return false;
  const sent = parseTraceparent(record.traceparent);
  if (batch.attributes['messaging.consumer.group.name'] !== auditGroup) return false;
  return (
    batch.parentSpanContext?.spanId === sent.parentId ||
    batch.links.some((l) => l.context.spanId === sent.parentId && l.context.traceId === sent.traceId)
  );
}
