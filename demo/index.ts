import cds from '@sap/cds';
import { type CrmServer, startCrmServer } from './crm-server/server.ts';
import { type ErpServer, startErpServer } from './erp-server/server.ts';
import { type HrServer, startHrServer } from './hr-server/server.ts';
import { seedCrm, seedErp, seededRandom, seedHr } from './seed.ts';

/**
 * The demo systems the hub's embedded default starts: the same real protocol servers the
 * connector tests use (SAP CAP for OData, scimmy for SCIM, the Salesforce-style CRM), seeded
 * with sample data, plus a "business day" that keeps changing a few records so events flow.
 */
export const demoPorts = { erp: 4004, crm: 4713, hr: 4714 } as const;

export interface DemoSystems {
  erp: ErpServer;
  crm: CrmServer;
  hr: HrServer;
  /** Environment the connectors' default config reads its secrets from. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the three systems on `ports` (0 picks free ones) and seeds them. */
export async function startDemoSystems(
  options: {
    ports?: Partial<Record<keyof typeof demoPorts, number>>;
    host?: string;
    changeEveryMs?: number;
  } = {},
): Promise<DemoSystems> {
  const ports = { ...demoPorts, ...options.ports };
  const host = options.host ?? '127.0.0.1';
  const erp = await startErpServer({ port: ports.erp, host });
  const crm = await startCrmServer({ port: ports.crm, host });
  const hr = await startHrServer({ port: ports.hr, host });
  await seedErp(erp);
  seedCrm(crm);
  seedHr(hr);
  const random = seededRandom(4);
  const timer =
    options.changeEveryMs === 0
      ? undefined
      : setInterval(() => {
          void businessDay(erp, crm, hr, random).catch(() => undefined);
        }, options.changeEveryMs ?? 5_000);
  timer?.unref();
  return {
    erp,
    crm,
    hr,
    env: { CRM_CLIENT_SECRET: crm.clientSecret, HR_SCIM_TOKEN: hr.token },
    async close() {
      if (timer) clearInterval(timer);
      await Promise.allSettled([erp.close(), crm.close(), hr.close()]);
    },
  };
}

/** One tick of activity: an order moves on, an account grows, an employee changes department. */
async function businessDay(
  erp: ErpServer,
  crm: CrmServer,
  hr: HrServer,
  random: () => number,
): Promise<void> {
  await tickErp(erp, random);
  tickCrm(crm, random);
  tickHr(hr, random);
}

/** An order moves on. */
export async function tickErp(erp: ErpServer, random: () => number): Promise<void> {
  const order = `SO-${5000 + Math.floor(random() * 30)}`;
  await erp.db.run(
    cds.ql
      .UPDATE('tributary.demo.erp.SalesOrders')
      .set({ status: ['released', 'delivered', 'invoiced'][Math.floor(random() * 3)] })
      .where({ ID: order }),
  );
}

/** An account grows. */
export function tickCrm(crm: CrmServer, random: () => number): void {
  const accounts = [...(crm.records.get('Account')?.values() ?? [])];
  const account = accounts[Math.floor(random() * accounts.length)];
  if (account) crm.put('Account', { AnnualRevenue: Number(account.AnnualRevenue ?? 0) + 10_000 }, account.Id);
}

/** An employee changes department. */
export function tickHr(hr: HrServer, random: () => number): void {
  const users = [...hr.users.values()];
  const user = users[Math.floor(random() * users.length)];
  if (user) {
    const ext = user['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'] as
      | Record<string, unknown>
      | undefined;
    if (ext) ext.department = ['Sales', 'Finance', 'Operations', 'Engineering'][Math.floor(random() * 4)];
    hr.touch(user);
  }
}
