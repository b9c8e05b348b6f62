import { compileMapping } from '../runtime/mapping.ts';

/** ISO 3166-1 alpha-2, upper-cased; anything else is a data error at the source. */
function isoCountry(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const code = String(value).trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) throw new Error(`"${String(value)}" is not an ISO 3166 alpha-2 country code`);
  return code;
}

/** ERP (OData v4) records <-> hub event data. Field names on the left are the Avro ones. */

export const salesOrderMapping = compileMapping(
  {
    orderId: 'ID',
    customerId: { from: 'customer_ID', nullable: true },
    status: { default: 'open' },
    currency: { default: 'EUR' },
    netAmount: { type: 'decimal', scale: 2, nullable: true },
    orderDate: { type: 'date', nullable: true },
    items: {
      default: [],
      items: {
        line: { type: 'int' },
        product: { type: 'string' },
        quantity: { type: 'decimal', scale: 3 },
        unitPrice: { type: 'decimal', scale: 2 },
      },
    },
    etag: { from: '["@odata.etag"]', nullable: true, readOnly: true },
    modifiedAt: { type: 'timestamp-millis', readOnly: true },
  },
  { name: 'erp.SalesOrders' },
);

export const customerMapping = compileMapping(
  {
    customerId: 'ID',
    name: { type: 'string' },
    email: { nullable: true, transform: 'lower' },
    country: { nullable: true, transform: isoCountry },
    creditLimit: { type: 'decimal', scale: 2, nullable: true },
    modifiedAt: { type: 'timestamp-millis', readOnly: true },
  },
  { name: 'erp.Customers' },
);

export const invoiceMapping = compileMapping(
  {
    invoiceId: 'ID',
    orderId: { from: 'order_ID', nullable: true },
    customerId: { from: 'customer_ID', nullable: true },
    amount: { type: 'decimal', scale: 2 },
    currency: { default: 'EUR' },
    dueDate: { type: 'date', nullable: true },
    paid: { type: 'boolean', default: false },
    modifiedAt: { type: 'timestamp-millis', readOnly: true },
  },
  { name: 'erp.Invoices' },
);
