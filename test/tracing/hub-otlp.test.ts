import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { type RunningHub, runHub } from '../../hub/run-hub.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.ts';

/**
 * `tributary up` with nothing but OTEL_* variables set: the hub registers its provider, the
 * CRM connector's syncs against the demo CRM become traces, and shutdown flushes them to the
 * collector (a local OTLP receiver).
 */

let receiver: OtlpReceiver;
let home: string;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  home = await mkdtemp(join(tmpdir(), 'tributary-hub-otlp-'));
});

afterAll(async () => {
  await receiver?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('tracing in tributary up', () => {
  it('exports the connector sync traces of a running hub to the OTLP endpoint from the environment', async () => {
    const prefix = `${uniqueName('hub-otlp')}.`;
    let running: RunningHub | undefined = await runHub({
      env: {
        ...testKafka().env,
        TRIBUTARY_HOME: home,
        TRIBUTARY_HTTP_PORT: '0',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'tributary-hub-test',
      },
      only: ['connector.crm'],
      config: {
        components: { 'connector.crm': { groupId: uniqueName('hub-otlp-crm'), pollIntervalMs: 60_000 } },
      },
      topicPrefix: prefix,
      logger: silentLogger(),
    });
    try {
      type CrmStatus = { source: { streams: Record<string, { lastSyncAt: unknown }> } };
      const crm = running.components.find((c) => c.name === 'connector.crm');
      expect(crm).toBeDefined();
      const deadline = Date.now() + 60_000;
      const synced = () =>
        Object.values((crm!.status() as CrmStatus).source.streams).every((s) => s.lastSyncAt !== null);
      while (!synced()) {
        if (Date.now() > deadline) throw new Error('timed out waiting for every CRM stream to sync once');
        await new Promise((r) => setTimeout(r, 200));
      }
      const instanceId = running.instanceId;
      // Shutdown flushes what the batch processor still holds.
      expect((await running.close('test')).timedOut).toBe(false);
      running = undefined;

      const spans = receiver.spans();
      const syncs = spans.filter((s) => s.name.startsWith('sync connector.crm/'));
      expect(syncs.length).toBeGreaterThanOrEqual(1);
      for (const sync of syncs) {
        expect(sync.parentSpanId).toBe('');
        // Each sync's page requests to the demo CRM are CLIENT spans (3) under it.
        const clients = spans.filter((s) => s.kind === 3 && s.parentSpanId === sync.spanId);
        expect(clients.length).toBeGreaterThanOrEqual(1);
        expect(clients.every((c) => c.traceId === sync.traceId)).toBe(true);
      }
      const resource = receiver.received[0]?.body[0]?.resource;
      expect(resource).toMatchObject({
        'service.name': 'tributary-hub-test',
        'service.instance.id': instanceId,
      });
    } finally {
      await running?.close();
    }
  });
});
