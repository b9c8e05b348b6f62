import { crmConnector } from '../../../connectors/crm/declaration.ts';
import { type CrmServer, startCrmServer } from '../../../demo/crm-server/server.ts';
import type { ContractSubject } from '../contract.ts';

// CRM over Salesforce-style REST against the demo CRM server (OAuth2 client credentials).
let crm: CrmServer;
let counter = 0;

const accountsByExt = (ext: string) =>
  [...crm.records.get('Account')!.values()].filter((r) => r.ExtId__c === ext);

/** The CRM subject of the connector contract and the reliability suite's endpoint faults. */
export function crmSubject(): ContractSubject {
  return {
    system: 'crm',
    declaration: crmConnector as never,
    startSystem: async () => {
      crm = await startCrmServer();
    },
    stopSystem: async () => crm?.close(),
    faults: () => crm.faults,
    config: () => ({
      http: {
        endpoints: {
          urls: [crm.url],
          breaker: {
            volumeThreshold: 4,
            errorThresholdPercentage: 50,
            resetTimeoutMs: 700,
            rollingWindowMs: 10_000,
          },
        },
        auth: {
          type: 'oauth2-client-credentials',
          tokenUrl: `${crm.url}/services/oauth2/token`,
          clientId: crm.clientId,
          clientSecret: { value: crm.clientSecret },
        },
        retry: { retries: 5, initialDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 5_000 },
        timeoutMs: 400,
      },
      apiVersion: crm.apiVersion,
      entities: ['account'],
    }),
    stream: 'account',
    changeTopic: 'crm.account.changed',
    keyField: 'accountId',
    async createRecords(n, tag) {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        counter += 1;
        ids.push(
          crm.put('Account', {
            Name: `Account ${tag} ${counter}`,
            ExtId__c: `A-${tag}-${counter}`,
            AnnualRevenue: 1000 * counter,
          }).Id,
        );
      }
      return ids;
    },
    async updateRecords(keys) {
      for (const id of keys) crm.put('Account', { Industry: 'Retail' }, id);
    },
    async createBadRecord(tag) {
      counter += 1;
      return crm.put('Account', {
        Name: `Bad ${tag}`,
        ExtId__c: `A-${tag}-${counter}`,
        AnnualRevenue: 'lots',
      }).Id;
    },
    async createInvalidRecord(tag) {
      counter += 1;
      // Maps to a decimal string, but 10^17 is beyond the schema's decimal(18,2).
      return crm.put('Account', { Name: `Huge ${tag}`, ExtId__c: `A-${tag}-${counter}`, AnnualRevenue: 1e17 })
        .Id;
    },
    async sourceState() {
      const rows = [...crm.records.get('Account')!.values()].filter(
        (r) => r.AnnualRevenue !== 'lots' && r.AnnualRevenue !== 1e17,
      );
      return new Map(rows.map((r) => [r.Id, r.SystemModstamp]));
    },
    command: {
      topic: 'crm.account.upsert.cmd',
      resultTopic: 'crm.account.upsert.res',
      type: 'tributary.crm.AccountUpsert',
      keyField: 'externalId',
      data: (key) => ({
        externalId: key,
        name: `Pushed ${key}`,
        industry: 'Manufacturing',
        annualRevenue: '125000.50',
        billingCity: 'Lyon',
        billingCountry: 'FR',
        phone: null,
        website: null,
      }),
      // A new account without Name: the CRM answers 400 REQUIRED_FIELD_MISSING.
      rejected: (key) => ({
        externalId: key,
        name: null,
        industry: 'Retail',
        annualRevenue: null,
        billingCity: null,
        billingCountry: null,
        phone: null,
        website: null,
      }),
      changesApplied: (key) => {
        const rows = accountsByExt(key);
        return rows.length === 1 ? (crm.changes.get(`Account:${rows[0]!.Id}`) ?? 0) : rows.length * 1000;
      },
      isWrite: (req) => req.method === 'PATCH',
    },
  };
}
