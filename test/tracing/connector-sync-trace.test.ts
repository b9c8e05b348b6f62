import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crmConnector } from '../../connectors/crm/declaration.ts';
import type { RunningConnector } from '../../connectors/runtime/connector.ts';
import { silentLogger } from '../../core/logger.ts';
import { type CrmServer, crmConnectorHttp, startCrmServer } from '../../demo/crm-server/server.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { ACTIONS_TOPIC, createHubContext, type HubContext } from '../../platform/index.ts';
import { waitFor } from '../audit/kafka-support.ts';
import { createDeclaredTopics } from '../connectors/support/topics.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { describeSpans, ids, parseTraceparent, recordTopics, useMemorySpans } from './support.ts';

/**
 * One connector sync against the demo CRM as one trace: the sync span (a new trace, started by
 * the poll loop), the CLIENT span of each page request (the CRM receives its traceparent), and
 * a batch span per page under which the events and the audit action are sent.
 */

let memory: Awaited<ReturnType<typeof useMemorySpans>>;
let crm: CrmServer;
let hub: HubContext;
let connector: RunningConnector | undefined;
let prefix: string;
let offsetsTopic: string;
const seenAtCrm: { path: string; traceparent: string | undefined }[] = [];

beforeAll(async () => {
  memory = await useMemorySpans();
  crm = await startCrmServer();
  // The CRM's own view of each request: the fault gate's matcher sees the raw request and never arms.
  crm.faults.inject({ kind: 'slow', delayMs: 0 }, Number.MAX_SAFE_INTEGER, (req) => {
    const value = req.headers.traceparent;
    seenAtCrm.push({ path: req.url ?? '', traceparent: Array.isArray(value) ? value[0] : value });
    return false;
  });
  const tk = testKafka();
  hub = await createHubContext({ env: tk.env, schemaLogTopic: uniqueName('_tributary.schemas') });
  prefix = `${uniqueName('trace-sync')}.`;
  offsetsTopic = uniqueName('_tributary.source-offsets');
  await createDeclaredTopics(tk.kafka, crmConnector as ComponentDeclaration<unknown>, prefix, offsetsTopic);
}, 120_000);

afterAll(async () => {
  await connector?.close();
  await hub?.close();
  await crm?.close();
  await memory?.stop();
});

describe('tracing one connector sync', () => {
  it('publishes events whose headers carry the sync trace, and sends the CRM a traceparent', async () => {
    for (let i = 0; i < 7; i++)
      crm.put('Account', { Name: `Traced ${i}`, ExtId__c: uniqueName('T'), AnnualRevenue: i });
    const topic = `${prefix}crm.account.changed`;
    const actionsTopic = prefix + ACTIONS_TOPIC;
    const reader = await recordTopics(hub.kafka, hub.serde, [topic, actionsTopic]);
    try {
      connector = crmConnector.create(
        crmConnector.config.parse({
          http: crmConnectorHttp(crm),
          apiVersion: crm.apiVersion,
          entities: ['account'],
          sink: false,
          topicPrefix: prefix,
          offsetsTopic,
          pageSize: 5,
          pollIntervalMs: 60_000,
        }),
        { logger: silentLogger(), hub },
      ) as RunningConnector;
      await connector.start();
      const events = () => reader.records.filter((r) => r.topic === topic);
      const syncName = 'sync connector.crm/account';
      await waitFor(
        '7 events on Kafka and the first sync span ended',
        () => events().length >= 7 && memory.spans().some((s) => s.name === syncName),
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; spans:\n${describeSpans(memory.spans())}`);
      });
      const spans = memory.spans();
      const [sync] = spans.filter((s) => s.name === syncName);
      const traceId = ids(sync!).traceId;
      // The poll loop starts a trace per sync: the sync span has no parent.
      expect(sync!.parentSpanContext).toBeUndefined();
      expect(sync!.attributes).toMatchObject({
        'tributary.connector': 'connector.crm',
        'tributary.stream': 'account',
      });

      // Every event carries the sync's trace, sent under a batch span of this sync.
      const batches = spans.filter(
        (s) => s.name === 'sync.batch connector.crm/account' && ids(s).parentId === ids(sync!).spanId,
      );
      expect(batches.map((b) => b.attributes['tributary.batch.records'])).toEqual([5, 2]);
      for (const event of events()) {
        const carried = parseTraceparent(event.traceparent);
        expect(carried.traceId).toBe(traceId);
        const send = spans.find((s) => ids(s).spanId === carried.parentId);
        expect(send?.name).toBe(`send ${topic}`);
        expect(send?.attributes).toMatchObject({
          'messaging.system': 'kafka',
          'messaging.destination.name': topic,
        });
        expect(batches.map((b) => ids(b).spanId)).toContain(send?.parentSpanContext?.spanId);
      }
      // The sync.batch audit actions are in the trace too.
      await waitFor(
        'two sync.batch actions',
        () =>
          reader.records.filter(
            (r) => r.topic === actionsTopic && r.event.data.action === 'connector.sync.batch',
          ).length >= 2,
      );
      for (const action of reader.records.filter((r) => r.topic === actionsTopic)) {
        expect(parseTraceparent(action.traceparent).traceId).toBe(traceId);
      }

      // The CRM received a traceparent naming the connector's CLIENT span on every page request.
      const clients = spans.filter((s) => s.kind === 2 && ids(s).traceId === traceId);
      expect(clients.every((c) => ids(c).parentId === ids(sync!).spanId)).toBe(true);
      const queries = seenAtCrm.filter((r) => r.path.includes('/query'));
      expect(queries.length).toBeGreaterThanOrEqual(2);
      const firstSync = queries.filter(
        (q) => q.traceparent && parseTraceparent(q.traceparent).traceId === traceId,
      );
      expect(firstSync.length).toBe(clients.length);
      expect(firstSync.map((q) => parseTraceparent(q.traceparent).parentId).sort()).toEqual(
        clients.map((c) => ids(c).spanId).sort(),
      );
      expect(clients.every((c) => c.attributes['http.response.status_code'] === 200)).toBe(true);
    } finally {
      await reader.stop();
    }
  });
});
