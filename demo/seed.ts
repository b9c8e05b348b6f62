import cds from '@sap/cds';
import type { CrmServer } from './crm-server/server.ts';
import type { ErpServer } from './erp-server/server.ts';
import type { HrServer, StoredResource } from './hr-server/server.ts';

/**
 * Sample data for the demo systems, the same on every start (a seeded generator), so a
 * newcomer's first sync always shows the same orders, accounts and employees.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const companies = [
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Stark',
  'Wayne',
  'Hooli',
  'Vandelay',
  'Soylent',
  'Tyrell',
];
const cities = [
  ['Berlin', 'DE'],
  ['Lyon', 'FR'],
  ['Utrecht', 'NL'],
  ['Porto', 'PT'],
  ['Graz', 'AT'],
] as const;
const people = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Margaret', 'Linus', 'Radia', 'Donald'];
const families = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Thompson',
  'Hamilton',
  'Torvalds',
  'Perlman',
  'Knuth',
];
const departments = ['Sales', 'Finance', 'Operations', 'Engineering'];

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Customers, sales orders with items and invoices in the ERP. */
export async function seedErp(erp: ErpServer, random = seededRandom(1)): Promise<void> {
  const customers = companies.map((c, i) => {
    const [, country] = cities[i % cities.length]!;
    return {
      ID: `C-${1000 + i}`,
      name: `${c} GmbH`,
      email: `orders@${c.toLowerCase()}.example`,
      country,
      creditLimit: 50_000 + i * 5_000,
    };
  });
  await erp.db.run(cds.ql.INSERT.into('tributary.demo.erp.Customers').entries(customers));
  const orders = Array.from({ length: 30 }, (_, i) => {
    const items = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, l) => ({
      line: l + 1,
      product: `P-${100 + Math.floor(random() * 20)}`,
      quantity: 1 + Math.floor(random() * 10),
      unitPrice: Math.round(random() * 50_000) / 100,
    }));
    const net = items.reduce((s, it) => s + it.quantity * it.unitPrice, 0);
    return {
      ID: `SO-${5000 + i}`,
      customer_ID: pick(random, customers).ID,
      status: pick(random, ['open', 'released', 'delivered']),
      netAmount: Math.round(net * 100) / 100,
      orderDate: `2026-0${1 + (i % 9)}-1${i % 10}`,
      items,
    };
  });
  await erp.db.run(cds.ql.INSERT.into('tributary.demo.erp.SalesOrders').entries(orders));
  const invoices = orders.slice(0, 12).map((o, i) => ({
    ID: `INV-${9000 + i}`,
    order_ID: o.ID,
    customer_ID: o.customer_ID,
    amount: o.netAmount,
    dueDate: `2026-1${i % 3}-01`,
    paid: i % 3 === 0,
  }));
  await erp.db.run(cds.ql.INSERT.into('tributary.demo.erp.Invoices').entries(invoices));
}

/** Accounts, contacts and opportunities in the CRM. */
export function seedCrm(crm: CrmServer, random = seededRandom(2)): void {
  const accounts = companies.map((c, i) => {
    const [city, country] = cities[i % cities.length]!;
    return crm.put('Account', {
      Name: `${c} Ltd`,
      ExtId__c: `C-${1000 + i}`,
      Industry: pick(random, ['Manufacturing', 'Retail', 'Energy', 'Media']),
      AnnualRevenue: Math.round(random() * 90_000_000) + 1_000_000,
      BillingCity: city,
      BillingCountry: country,
      Website: `https://${c.toLowerCase()}.example`,
    });
  });
  for (let i = 0; i < 25; i++) {
    const given = pick(random, people);
    const family = pick(random, families);
    crm.put('Contact', {
      AccountId: pick(random, accounts).Id,
      ExtId__c: `P-${2000 + i}`,
      FirstName: given,
      LastName: family,
      Email: `${given}.${family}${i}@customer.example`.toLowerCase(),
      Title: pick(random, ['Buyer', 'CFO', 'Head of IT', 'Engineer']),
    });
  }
  for (let i = 0; i < 10; i++) {
    crm.put('Opportunity', {
      AccountId: pick(random, accounts).Id,
      ExtId__c: `O-${3000 + i}`,
      Name: `Deal ${i + 1}`,
      StageName: pick(random, ['Prospecting', 'Qualification', 'Negotiation', 'Closed Won']),
      Amount: Math.round(random() * 500_000),
      CloseDate: `2026-1${i % 3}-15`,
      Probability: Math.round(random() * 100),
    });
  }
}

/** Employees (with managers, departments, employee numbers) and groups in HR. */
export function seedHr(hr: HrServer, random = seededRandom(3)): void {
  const enterprise = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
  const users: StoredResource[] = [];
  for (let i = 0; i < 20; i++) {
    const given = people[i % people.length]!;
    const family = families[(i * 3) % families.length]!;
    const now = new Date();
    const manager = i > 0 ? users[Math.floor(random() * Math.min(i, 4))] : undefined;
    const user: StoredResource = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', enterprise],
      id: `00u${String(i).padStart(5, '0')}`,
      userName: `${given}.${family}`.toLowerCase(),
      name: { givenName: given, familyName: family },
      active: i % 9 !== 8,
      emails: [{ value: `${given}.${family}@corp.example`.toLowerCase(), primary: true }],
      [enterprise]: {
        employeeNumber: String(7000 + i),
        department: pick(random, departments),
        ...(manager ? { manager: { value: manager.id } } : {}),
      },
      meta: { created: now, lastModified: now },
    };
    hr.touch(user);
    hr.users.set(user.id, user);
    users.push(user);
  }
  for (const [i, d] of departments.entries()) {
    const now = new Date();
    const group: StoredResource = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      id: `00g${String(i).padStart(5, '0')}`,
      displayName: d,
      members: users
        .filter((u) => (u[enterprise] as { department: string }).department === d)
        .map((u) => ({ value: u.id, display: String(u.userName) })),
      meta: { created: now, lastModified: now },
    };
    hr.touch(group);
    hr.groups.set(group.id, group);
  }
}
