import { randomUUID } from 'node:crypto';
import { salesOrderMapping } from '../../connectors/erp/mapping.ts';
import { erpSourceStreams } from '../../connectors/erp/source.ts';
import { changeEventId } from '../../connectors/runtime/event-id.ts';
import { createSourceLoop } from '../../connectors/runtime/source-loop.ts';
import { createSourceOffsetStore } from '../../connectors/runtime/source-offsets.ts';
import type { SourcePage, SourceStream } from '../../connectors/runtime/source-types.ts';
import { silentLogger } from '../../core/logger.ts';
import {
  createActionEmitter,
  createDeadLetterWriter,
  ensureTopic,
  type HubContext,
} from '../../platform/index.ts';
import { type HubEvent, newEvent } from '../../schemas/index.ts';

/**
 * Sales orders as the demo ERP's OData v4 service returns them with `$expand=items` (SAP CAP,
 * asked for IEEE754Compatible JSON: decimals as strings with their scale, dates as text, the
 * managed fields, the ETag annotation), parsed from JSON text as the connector's HTTP client
 * parses a response: the source rows of the ERP connector's sales-order stream, made before a
 * benchmark's clock starts.
 */
export function erpSalesOrderPages(count: number, items: number, pageSize: number): SourcePage[] {
  const base = Date.UTC(2026, 10, 24, 10, 0, 0);
  const pages: SourcePage[] = [];
  for (let first = 0; first < count; first += pageSize) {
    const rows = [];
    for (let n = first; n < Math.min(count, first + pageSize); n += 1) {
      const id = `SO-${String(n).padStart(8, '0')}`;
      const modifiedAt = new Date(base + n).toISOString();
      rows.push({
        '@odata.etag': `W/"${modifiedAt}"`,
        createdAt: modifiedAt,
        createdBy: 'anonymous',
        modifiedAt,
        modifiedBy: 'anonymous',
        ID: id,
        customer_ID: `C-${1000 + (n % 5000)}`,
        status: 'open',
        currency: 'EUR',
        netAmount: `${1249 + (n % 100)}.50`,
        orderDate: '2026-11-23',
        items: Array.from({ length: items }, (_, i) => ({
          order_ID: id,
          line: (i + 1) * 10,
          product: `MAT-${String(1000 + i).padStart(6, '0')}-STEEL-BOLT-M8`,
          quantity: `${1 + (i % 7)}.000`,
          unitPrice: `${10 + i}.25`,
        })),
      });
    }
    const parsed = JSON.parse(JSON.stringify(rows)) as { ID: string; modifiedAt: string }[];
    const last = parsed.at(-1)!;
    pages.push({
      records: parsed.map((raw) => ({ key: raw.ID, stamp: raw.modifiedAt, raw })),
      cursor: { stamp: last.modifiedAt, key: last.ID },
    });
  }
  return pages;
}

/**
 * The ERP connector's sales-order stream as connectors/erp/source.ts declares it (name, event
 * type, mapping), reading `pages` from memory. Only its reads use the HTTP client, so none is given.
 */
export function erpSalesOrderStream(topic: string, pages: SourcePage[]): SourceStream {
  const [stream] = erpSourceStreams(undefined as never, {
    pageSize: pages[0]?.records.length ?? 1,
    topic: () => topic,
    entities: ['sales-order'],
  });
  return {
    ...stream!,
    async *read() {
      yield* pages;
    },
  };
}

/**
 * The ERP connector's source loop (connectors/runtime/source-loop.ts) syncing `pages` once to
 * `topic`: map each row (connectors/erp/mapping.ts), make its change event (id, envelope),
 * publish page by page through the platform producer's pipeline, then per page its cursor and
 * its audit action, as `tributary up` runs it. Returns the seconds it took and what it published.
 */
export async function syncErpConnector(
  ctx: HubContext,
  topic: string,
  pages: SourcePage[],
  run: string,
): Promise<{ seconds: number; published: number }> {
  const logger = silentLogger();
  const actionsTopic = `bench.ingest.actions.${run}`;
  await ensureTopic({ kafka: ctx.kafka, topic: actionsTopic, partitions: 1 });
  const offsets = createSourceOffsetStore({
    kafka: ctx.kafka,
    producer: ctx.producer,
    topic: `bench.ingest.offsets.${run}`,
    logger,
  });
  await offsets.start();
  try {
    const loop = createSourceLoop({
      connector: 'connector.erp',
      system: 'erp',
      streams: [erpSalesOrderStream(topic, pages)],
      producer: ctx.producer,
      offsets,
      deadLetters: createDeadLetterWriter({ producer: ctx.producer }),
      actions: createActionEmitter({
        producer: ctx.producer,
        source: 'connector.erp',
        topic: actionsTopic,
      }),
      logger,
      pollIntervalMs: 60_000,
    });
    const start = performance.now();
    await loop.syncOnce();
    const seconds = (performance.now() - start) / 1000;
    return { seconds, published: loop.status().streams['sales-order']?.published ?? 0 };
  } finally {
    await offsets.close();
  }
}

/** The change event the ERP connector makes of the first row of `pages` (for its size). */
export function erpEventOf(pages: SourcePage[]): HubEvent<unknown> {
  const first = pages[0]!.records[0]!;
  return newEvent(
    'tributary.erp.SalesOrderChanged',
    {
      id: changeEventId('erp', 'sales-order', first.key, first.stamp),
      source: 'connector.erp',
      subject: first.key,
      actor: 'connector.erp',
      correlationId: randomUUID(),
      time: Date.parse(first.stamp),
    },
    salesOrderMapping.apply(first.raw) as never,
  );
}
