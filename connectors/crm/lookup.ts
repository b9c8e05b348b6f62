import type { HttpClient } from '../runtime/http-client.ts';
import { lookupCommand } from '../runtime/lookup.ts';
import type { SinkCommand } from '../runtime/sink-loop.ts';
import { accountMapping, crmQueryFields } from './mapping.ts';
import { type SoqlRecord, soqlString } from './rest-client.ts';

/** Which field `key` names: the external id or the CRM's own Id. */
const lookupFields = { externalId: 'ExtId__c', accountId: 'Id' } as const;

/** The CRM's query commands: an account by external id or CRM id, with one SOQL query. */
export function crmLookupCommands(
  http: HttpClient,
  options: { apiVersion: string; topic: (n: string) => string },
): SinkCommand[] {
  return [
    lookupCommand({
      name: 'crm.account.get',
      topic: options.topic('crm.account.get.cmd'),
      resultTopic: options.topic('crm.account.get.res'),
      resultType: 'tributary.crm.AccountGetResult',
      keyField: 'key',
      mapping: accountMapping,
      async find(data, signal) {
        const by = data.by === 'accountId' ? 'accountId' : 'externalId';
        const fields = ['Id', 'SystemModstamp', ...crmQueryFields.Account];
        // The value only ever enters the query as an escaped SOQL literal: no injection.
        const soql = `SELECT ${fields.join(', ')} FROM Account WHERE ${lookupFields[by]} = ${soqlString(String(data.key))} LIMIT 1`;
        const res = await http.request<{ records?: SoqlRecord[] }>({
          path: `/services/data/v${options.apiVersion}/query`,
          query: { q: soql },
          signal,
        });
        const raw = res.body?.records?.[0];
        return { status: res.status, raw, ...(raw ? { systemId: raw.Id } : {}) };
      },
    }),
  ];
}
