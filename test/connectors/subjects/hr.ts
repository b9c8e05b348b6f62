import { randomUUID } from 'node:crypto';
import { hrConnector } from '../../../connectors/hr/declaration.ts';
import { type HrServer, type StoredResource, startHrServer } from '../../../demo/hr-server/server.ts';
import type { ContractSubject } from '../contract.ts';

// HR over SCIM 2.0 against scimmy + scimmy-routers (express) with the enterprise extension.
let hr: HrServer;
let counter = 0;
const enterprise = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

function putUser(fields: Record<string, unknown>): StoredResource {
  const now = new Date();
  const user: StoredResource = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', enterprise],
    ...fields,
    id: randomUUID(),
    meta: { created: now, lastModified: now },
  };
  hr.touch(user);
  hr.users.set(user.id, user);
  return user;
}

/** The HR subject of the connector contract and the reliability suite's endpoint faults. */
export function hrSubject(): ContractSubject {
  return {
    system: 'hr',
    declaration: hrConnector as never,
    startSystem: async () => {
      hr = await startHrServer();
    },
    stopSystem: async () => hr?.close(),
    faults: () => hr.faults,
    config: () => ({
      http: {
        endpoints: {
          urls: [hr.url],
          breaker: {
            volumeThreshold: 4,
            errorThresholdPercentage: 50,
            resetTimeoutMs: 700,
            rollingWindowMs: 10_000,
          },
        },
        auth: { type: 'bearer', token: { value: hr.token } },
        retry: { retries: 5, initialDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 5_000 },
        timeoutMs: 400,
      },
      entities: ['employee'],
    }),
    restartRecords: 60,
    stream: 'employee',
    changeTopic: 'hr.employee.changed',
    keyField: 'userId',
    async createRecords(n, tag) {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        counter += 1;
        const u = putUser({
          userName: `${tag}.${counter}`,
          name: { givenName: 'Emp', familyName: `No ${counter}` },
          active: true,
          emails: [{ value: `${tag}.${counter}@corp.test`, primary: true }],
          [enterprise]: { employeeNumber: String(10_000 + counter), department: 'Ops' },
        });
        ids.push(u.id);
      }
      return ids;
    },
    async updateRecords(keys) {
      for (const id of keys) {
        const u = hr.users.get(id)!;
        (u[enterprise] as Record<string, unknown>).department = 'Finance';
        hr.touch(u);
      }
    },
    async createBadRecord(tag) {
      counter += 1;
      // scimmy checks types on the way out, so the bad record is one it accepts and the mapping refuses.
      return putUser({
        userName: `${tag}.${counter}`,
        active: true,
        emails: [{ value: 'not-an-address', primary: true }],
      }).id;
    },
    async sourceState() {
      // Users the suite's commands created count too: the connector publishes them like any other.
      const rows = [...hr.users.values()].filter((u) => !String(u.userName).startsWith('bad.'));
      return new Map(rows.map((u) => [u.id, u.meta.lastModified.toISOString()]));
    },
    command: {
      topic: 'hr.employee.upsert.cmd',
      resultTopic: 'hr.employee.upsert.res',
      type: 'tributary.hr.EmployeeUpsert',
      keyField: 'userName',
      data: (key) => ({
        userName: key,
        givenName: 'Pushed',
        familyName: key,
        email: `${key}@corp.test`,
        active: true,
        employeeNumber: '42',
        department: 'Sales',
        managerId: null,
      }),
      // The HR server refuses a login that is not a corporate id (400 invalidValue).
      rejected: () => ({
        userName: 'Not A Login!',
        givenName: null,
        familyName: null,
        email: null,
        active: null,
        employeeNumber: null,
        department: null,
        managerId: null,
      }),
      changesApplied: (key) => hr.changes.get(`Users:${key}`) ?? 0,
      isWrite: (req) => req.method !== 'GET',
    },
  };
}
