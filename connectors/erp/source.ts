import type { HttpClient } from '../runtime/http-client.ts';
import type { SourceStream } from '../runtime/source-types.ts';
import { customerMapping, invoiceMapping, salesOrderMapping } from './mapping.ts';
import { readODataChanges } from './odata-client.ts';

/** The ERP entities the source follows, each on its own topic. */
export const erpEntities = ['sales-order', 'customer', 'invoice'] as const;
export type ErpEntity = (typeof erpEntities)[number];

/** Change streams of the ERP: SalesOrders (with items), Customers, Invoices by modifiedAt. */
export function erpSourceStreams(
  http: HttpClient,
  options: { pageSize: number; topic: (name: string) => string; entities: readonly ErpEntity[] },
): SourceStream[] {
  const base = { stampField: 'modifiedAt', keyField: 'ID', pageSize: options.pageSize };
  const all: SourceStream[] = [
    {
      name: 'sales-order',
      topic: options.topic('erp.sales-order.changed'),
      eventType: 'tributary.erp.SalesOrderChanged',
      mapping: salesOrderMapping,
      read: (cursor, signal) =>
        readODataChanges(http, { ...base, entitySet: 'SalesOrders', expand: 'items' }, cursor, signal),
    },
    {
      name: 'customer',
      topic: options.topic('erp.customer.changed'),
      eventType: 'tributary.erp.CustomerChanged',
      mapping: customerMapping,
      read: (cursor, signal) => readODataChanges(http, { ...base, entitySet: 'Customers' }, cursor, signal),
    },
    {
      name: 'invoice',
      topic: options.topic('erp.invoice.changed'),
      eventType: 'tributary.erp.InvoiceChanged',
      mapping: invoiceMapping,
      read: (cursor, signal) => readODataChanges(http, { ...base, entitySet: 'Invoices' }, cursor, signal),
    },
  ];
  return all.filter((s) => options.entities.includes(s.name as ErpEntity));
}
