import cds from '@sap/cds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readODataChanges, readODataEntity } from '../../connectors/erp/odata-client.ts';
import { upsertSalesOrder } from '../../connectors/erp/sink.ts';
import { createHttpClient, type HttpClient } from '../../connectors/runtime/http-client.ts';
import type { SourceCursor } from '../../connectors/runtime/source-types.ts';
import { HubError } from '../../core/errors.ts';
import { type ErpServer, startErpServer } from '../../demo/erp-server/server.ts';

// The OData protocol layer of the ERP connector against SAP CAP, without Kafka.
let erp: ErpServer;
let http: HttpClient;
const signal = new AbortController().signal;
const Customers = 'tributary.demo.erp.Customers';

beforeAll(async () => {
  erp = await startErpServer();
  http = createHttpClient({
    endpoints: { urls: [erp.url] },
    idempotencyHeader: 'Repeatability-Request-ID',
    retry: { retries: 3, initialDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 1_000 },
  });
});
afterAll(async () => {
  http?.close();
  await erp?.close();
});

const readAll = async (cursor: SourceCursor | undefined, pageSize: number) => {
  const seen: string[] = [];
  let last = cursor;
  for await (const page of readODataChanges(
    http,
    { entitySet: 'Customers', stampField: 'modifiedAt', keyField: 'ID', pageSize },
    cursor,
    signal,
  )) {
    seen.push(...page.records.map((r) => r.key));
    last = page.cursor;
  }
  return { seen, last };
};

describe('OData change reads', () => {
  it('pages through rows sharing one modifiedAt without skipping or repeating any', async () => {
    // One INSERT is one transaction: every row gets the same modifiedAt.
    const rows = Array.from({ length: 53 }, (_, i) => ({
      ID: `SAME-${String(i).padStart(3, '0')}`,
      name: `n${i}`,
    }));
    await erp.db.run(cds.ql.INSERT.into(Customers).entries(rows));
    const { seen, last } = await readAll(undefined, 10);
    expect(seen).toEqual(rows.map((r) => r.ID));
    expect(last?.key).toBe('SAME-052');
    expect((await readAll(last, 10)).seen).toEqual([]);
  });

  it('reads a record changed mid-sync again after the cursor instead of losing it', async () => {
    const { last: start } = await readAll(undefined, 100);
    const rows = Array.from({ length: 12 }, (_, i) => ({
      ID: `MID-${String(i).padStart(3, '0')}`,
      name: `m${i}`,
    }));
    for (const r of rows) await erp.db.run(cds.ql.INSERT.into(Customers).entries([r]));
    const pages = readODataChanges(
      http,
      { entitySet: 'Customers', stampField: 'modifiedAt', keyField: 'ID', pageSize: 5 },
      start,
      signal,
    );
    const seen: string[] = [];
    let first = true;
    for await (const page of pages) {
      seen.push(...page.records.map((r) => r.key));
      if (first) {
        first = false;
        // Change a record the sync has not reached yet and one it already passed.
        await erp.db.run(cds.ql.UPDATE(Customers).set({ name: 'changed' }).where({ ID: 'MID-008' }));
        await erp.db.run(cds.ql.UPDATE(Customers).set({ name: 'changed' }).where({ ID: 'MID-001' }));
      }
    }
    expect(new Set(seen)).toEqual(new Set(rows.map((r) => r.ID)));
    expect(seen.slice(-2).sort()).toEqual(['MID-001', 'MID-008']);
  });
});

describe('sales order upserts', () => {
  const data = (orderId: string, extra: Record<string, unknown> = {}) => ({
    orderId,
    customerId: null,
    status: 'open',
    currency: 'EUR',
    netAmount: '99.90',
    orderDate: 20_100,
    items: [{ line: 1, product: 'P-1', quantity: '3.000', unitPrice: '33.30' }],
    ifMatch: null,
    ...extra,
  });

  it('creates with POST, updates with PATCH and If-Match, and reports a concurrent change as a conflict', async () => {
    const created = await upsertSalesOrder(http, data('SO-E1'), { commandId: crypto.randomUUID(), signal });
    expect(created.status).toBe(201);
    const now = await readODataEntity(http, 'SalesOrders', 'SO-E1');
    const staleEtag = now!['@odata.etag'] as string;
    const updated = await upsertSalesOrder(
      http,
      data('SO-E1', { status: 'released', ifMatch: staleEtag, items: null }),
      {
        commandId: crypto.randomUUID(),
        signal,
      },
    );
    expect(updated.status).toBe(200);
    const err = (await upsertSalesOrder(
      http,
      data('SO-E1', { status: 'cancelled', ifMatch: staleEtag, items: null }),
      {
        commandId: crypto.randomUUID(),
        signal,
      },
    ).catch((e: unknown) => e)) as HubError & { status: number };
    expect(err).toBeInstanceOf(HubError);
    expect(err.code).toBe('ERP_CONFLICT');
    expect(err.status).toBe(412);
    expect((await readODataEntity(http, 'SalesOrders', 'SO-E1'))!.status).toBe('released');
    expect(erp.changes.get('SalesOrders:SO-E1')).toBe(2);
  });

  it('asks for and sends decimals as strings (IEEE754Compatible), so amounts keep every digit', async () => {
    erp.mediaTypes.length = 0;
    const big = '9999999999999.99'; // Decimal(15, 2) at its limit: more digits than a double keeps
    await upsertSalesOrder(http, data('SO-E754', { netAmount: big }), {
      commandId: crypto.randomUUID(),
      signal,
    });
    const read = await readODataEntity(http, 'SalesOrders', 'SO-E754');
    expect(read!.netAmount).toBe(big);
    const changes: string[] = [];
    for await (const page of readODataChanges(
      http,
      { entitySet: 'SalesOrders', stampField: 'modifiedAt', keyField: 'ID', pageSize: 500 },
      undefined,
      signal,
    ))
      changes.push(
        ...page.records
          .filter((r) => r.key === 'SO-E754')
          .map((r) => String((r.raw as { netAmount?: unknown }).netAmount)),
      );
    expect(changes).toEqual([big]);
    const post = erp.mediaTypes.find((m) => m.method === 'POST');
    expect(post?.contentType).toMatch(/IEEE754Compatible=true/);
    const gets = erp.mediaTypes.filter((m) => m.method === 'GET');
    expect(gets.length).toBeGreaterThanOrEqual(3);
    for (const get of gets) expect(get.accept).toMatch(/IEEE754Compatible=true/);
  });

  it('answers a retried POST whose first answer was lost from the repeatability log', async () => {
    erp.faults.inject({ kind: 'apply-then-drop' }, 1, (req) => req.method === 'POST');
    const res = await upsertSalesOrder(http, data('SO-E2'), { commandId: crypto.randomUUID(), signal });
    expect(res.status).toBe(201);
    expect(erp.changes.get('SalesOrders:SO-E2')).toBe(1);
    const order = await readODataEntity(http, 'SalesOrders', 'SO-E2');
    expect((order as { netAmount: string }).netAmount).toBe('99.90');
  });
});
