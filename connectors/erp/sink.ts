import { HubError } from '../../core/errors.ts';
import { type HttpClient, httpFailure } from '../runtime/http-client.ts';
import type { PushAnswer, SinkCommand } from '../runtime/sink-loop.ts';
import { salesOrderMapping } from './mapping.ts';
import { keyPredicate, type ODataEntity, odataRequest, readODataEntity } from './odata-client.ts';

const withoutNulls = (data: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null && v !== undefined));

/**
 * Upserts a sales order: POST when it does not exist, otherwise PATCH with If-Match (the etag the
 * command names, or the one just read), so a concurrent change in the ERP is reported as a
 * conflict instead of being overwritten. The command id travels as Repeatability-Request-ID.
 */
export async function upsertSalesOrder(
  http: HttpClient,
  data: Record<string, unknown>,
  ctx: { commandId: string; signal: AbortSignal },
): Promise<PushAnswer> {
  const id = String(data.orderId);
  const body = salesOrderMapping.reverse(withoutNulls(data));
  const existing = await readODataEntity(http, 'SalesOrders', id, ctx.signal);
  try {
    if (!existing) {
      const res = await odataRequest<ODataEntity>(http, {
        method: 'POST',
        path: 'SalesOrders',
        body,
        idempotencyKey: ctx.commandId,
        signal: ctx.signal,
      });
      return { status: res.status, systemId: id, answer: res.body };
    }
    delete body.ID;
    delete body.items;
    const ifMatch = (data.ifMatch as string | null) ?? existing['@odata.etag'];
    const res = await odataRequest<ODataEntity>(http, {
      method: 'PATCH',
      path: `SalesOrders${keyPredicate(id)}`,
      body,
      headers: ifMatch ? { 'if-match': ifMatch } : {},
      idempotencyKey: ctx.commandId,
      signal: ctx.signal,
    });
    return { status: res.status, systemId: id, answer: res.body };
  } catch (err) {
    const failure = httpFailure(err);
    if (failure?.status === 412) {
      throw Object.assign(
        new HubError(
          'ERP_CONFLICT',
          `sales order ${id} changed in the ERP since etag ${String(data.ifMatch ?? existing?.['@odata.etag'])}`,
          {
            where: { subject: id, status: 412 },
            hint: 'read the current order (its etag is on the latest erp.sales-order.changed event) and decide again',
          },
        ),
        failure,
      );
    }
    throw err;
  }
}

/** The commands the ERP sink accepts. */
export function erpSinkCommands(http: HttpClient, topic: (name: string) => string): SinkCommand[] {
  return [
    {
      name: 'erp.sales-order.upsert',
      topic: topic('erp.sales-order.upsert.cmd'),
      resultTopic: topic('erp.sales-order.upsert.res'),
      resultType: 'tributary.erp.SalesOrderUpsertResult',
      keyField: 'orderId',
      push: (data, ctx) => upsertSalesOrder(http, data, ctx),
    },
  ];
}
