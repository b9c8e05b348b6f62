import type { HttpClient } from '../runtime/http-client.ts';
import type { Mapping } from '../runtime/mapping.ts';
import type { SourceStream } from '../runtime/source-types.ts';
import { accountMapping, contactMapping, crmQueryFields, opportunityMapping } from './mapping.ts';
import { readSoqlChanges } from './rest-client.ts';

export const crmEntities = ['account', 'contact', 'opportunity'] as const;
export type CrmEntity = (typeof crmEntities)[number];

const objects: Record<CrmEntity, { object: keyof typeof crmQueryFields; type: string; mapping: Mapping }> = {
  account: { object: 'Account', type: 'tributary.crm.AccountChanged', mapping: accountMapping },
  contact: { object: 'Contact', type: 'tributary.crm.ContactChanged', mapping: contactMapping },
  opportunity: {
    object: 'Opportunity',
    type: 'tributary.crm.OpportunityChanged',
    mapping: opportunityMapping,
  },
};

/** Change streams of the CRM: accounts, contacts and opportunities by SystemModstamp. */
export function crmSourceStreams(
  http: HttpClient,
  options: {
    apiVersion: string;
    pageSize: number;
    topic: (name: string) => string;
    entities: readonly CrmEntity[];
  },
): SourceStream[] {
  return options.entities.map((name) => {
    const o = objects[name];
    return {
      name,
      topic: options.topic(`crm.${name}.changed`),
      eventType: o.type,
      mapping: o.mapping,
      read: (cursor, signal) =>
        readSoqlChanges(
          http,
          {
            apiVersion: options.apiVersion,
            object: o.object,
            fields: [...crmQueryFields[o.object]],
            pageSize: options.pageSize,
          },
          cursor,
          signal,
        ),
    };
  });
}
