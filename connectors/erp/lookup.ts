import { type HttpClient, httpFailure } from '../runtime/http-client.ts';
import { type LookupAnswer, lookupCommand } from '../runtime/lookup.ts';
import type { SinkCommand } from '../runtime/sink-loop.ts';
import { customerMapping, salesOrderMapping } from './mapping.ts';
import { keyPredicate, type ODataEntity, odataRequest } from './odata-client.ts';

/** Reads one entity by key (with `$expand` when given); a 404 is "not found", not a failure. */
async function readByKey(
  http: HttpClient,
  entitySet: string,
  key: string,
  signal: AbortSignal,
  expand?: string,
): Promise<LookupAnswer> {
  try {
    const res = await odataRequest<ODataEntity>(http, {
      path: `${entitySet}${keyPredicate(key)}`,
      ...(expand ? { query: { $expand: expand } } : {}),
      signal,
    });
    return { status: res.status, raw: res.body, systemId: key };
  } catch (err) {
    const failure = httpFailure(err);
    if (failure?.status === 404) return { status: 404, raw: undefined };
    throw err;
  }
}

/** The ERP's query commands: a sales order (with items) or a customer by its number. */
export function erpLookupCommands(http: HttpClient, topic: (name: string) => string): SinkCommand[] {
  return [
    lookupCommand({
      name: 'erp.sales-order.get',
      topic: topic('erp.sales-order.get.cmd'),
      resultTopic: topic('erp.sales-order.get.res'),
      resultType: 'tributary.erp.SalesOrderGetResult',
      keyField: 'orderId',
      mapping: salesOrderMapping,
      find: (data, signal) => readByKey(http, 'SalesOrders', String(data.orderId), signal, 'items'),
    }),
    lookupCommand({
      name: 'erp.customer.get',
      topic: topic('erp.customer.get.cmd'),
      resultTopic: topic('erp.customer.get.res'),
      resultType: 'tributary.erp.CustomerGetResult',
      keyField: 'customerId',
      mapping: customerMapping,
      find: (data, signal) => readByKey(http, 'Customers', String(data.customerId), signal),
    }),
  ];
}
