import cds from '@sap/cds';
import { erpConnector } from '../../../connectors/erp/declaration.ts';
import { type ErpServer, startErpServer } from '../../../demo/erp-server/server.ts';
import type { ContractSubject } from '../contract.ts';

// ERP over OData v4 against SAP CAP serving the demo model from in-memory SQLite.
let erp: ErpServer;
let counter = 0;
const Customers = 'tributary.demo.erp.Customers';

/** The ERP subject of the connector contract and the reliability suite's endpoint faults. */
export function erpSubject(): ContractSubject {
  return {
    system: 'erp',
    declaration: erpConnector as never,
    startSystem: async () => {
      erp = await startErpServer();
    },
    stopSystem: async () => erp?.close(),
    faults: () => erp.faults,
    config: () => ({
      http: {
        endpoints: {
          urls: [erp.url],
          breaker: {
            volumeThreshold: 4,
            errorThresholdPercentage: 50,
            resetTimeoutMs: 700,
            rollingWindowMs: 10_000,
          },
        },
        retry: { retries: 5, initialDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 5_000 },
        timeoutMs: 400,
      },
      entities: ['customer'],
    }),
    stream: 'customer',
    changeTopic: 'erp.customer.changed',
    keyField: 'customerId',
    async createRecords(n, tag) {
      const rows = Array.from({ length: n }, () => {
        counter += 1;
        return {
          ID: `C-${tag}-${String(counter).padStart(6, '0')}`,
          name: `Customer ${counter}`,
          country: 'DE',
          creditLimit: 1000 + counter,
        };
      });
      await erp.db.run(cds.ql.INSERT.into(Customers).entries(rows));
      return rows.map((r) => r.ID);
    },
    async updateRecords(keys) {
      for (const ID of keys) {
        // One transaction per update, so each gets its own modifiedAt as in the ERP's own UI.
        await erp.db.run(
          cds.ql
            .UPDATE(Customers)
            .set({ name: `Renamed ${ID}` })
            .where({ ID }),
        );
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    async createBadRecord(tag) {
      counter += 1;
      const ID = `C-${tag}-${String(counter).padStart(6, '0')}`;
      await erp.db.run(
        cds.ql.INSERT.into(Customers).entries([{ ID, name: 'Bad country', country: 'Germany' }]),
      );
      return ID;
    },
    async createInvalidRecord(tag) {
      counter += 1;
      const ID = `C-${tag}-${String(counter).padStart(6, '0')}`;
      // Fits the ERP's Decimal(15,2)? No: 10^14 needs 17 digits; the event schema refuses it too.
      await erp.db.run(
        cds.ql.INSERT.into(Customers).entries([
          { ID, name: 'Too rich', country: 'DE', creditLimit: '100000000000000' },
        ]),
      );
      return ID;
    },
    async sourceState() {
      const rows = (await erp.db.run(cds.ql.SELECT.from(Customers).columns('ID', 'modifiedAt'))) as {
        ID: string;
        modifiedAt: string;
      }[];
      return new Map(rows.filter((r) => !r.ID.includes('-bad-')).map((r) => [r.ID, r.modifiedAt]));
    },
    command: {
      topic: 'erp.sales-order.upsert.cmd',
      resultTopic: 'erp.sales-order.upsert.res',
      type: 'tributary.erp.SalesOrderUpsert',
      keyField: 'orderId',
      data: (key) => ({
        orderId: key,
        customerId: null,
        status: 'open',
        currency: 'EUR',
        netAmount: '250.00',
        orderDate: 20_000,
        items: [{ line: 1, product: 'P-100', quantity: '2.000', unitPrice: '125.00' }],
        ifMatch: null,
      }),
      // CAP refuses a status longer than String(20) with 400.
      rejected: (key) => ({
        orderId: key,
        customerId: null,
        status: 'x'.repeat(40),
        currency: null,
        netAmount: null,
        orderDate: null,
        items: null,
        ifMatch: null,
      }),
      changesApplied: (key) => erp.changes.get(`SalesOrders:${key}`) ?? 0,
      isWrite: (req) => req.method !== 'GET',
    },
  };
}
