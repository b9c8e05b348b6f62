import type { HttpClient } from '../runtime/http-client.ts';
import type { Mapping } from '../runtime/mapping.ts';
import type { SinkCommand } from '../runtime/sink-loop.ts';
import { accountMapping, contactMapping } from './mapping.ts';
import { upsertByExternalId } from './rest-client.ts';

const withoutNulls = (data: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null && v !== undefined));

function upsertCommand(
  http: HttpClient,
  options: {
    apiVersion: string;
    entity: 'account' | 'contact';
    object: string;
    mapping: Mapping;
    topic: (n: string) => string;
  },
): SinkCommand {
  return {
    name: `crm.${options.entity}.upsert`,
    topic: options.topic(`crm.${options.entity}.upsert.cmd`),
    resultTopic: options.topic(`crm.${options.entity}.upsert.res`),
    resultType: `tributary.crm.${options.object}UpsertResult`,
    keyField: 'externalId',
    async push(data, ctx) {
      const body = options.mapping.reverse(withoutNulls(data));
      const res = await upsertByExternalId(http, {
        apiVersion: options.apiVersion,
        object: options.object,
        field: 'ExtId__c',
        value: String(data.externalId),
        body,
        idempotencyKey: ctx.commandId,
        signal: ctx.signal,
      });
      return { status: res.status, systemId: res.body?.id, answer: res.body };
    },
  };
}

/** The commands the CRM sink accepts: account and contact upserts by external id. */
export function crmSinkCommands(
  http: HttpClient,
  options: { apiVersion: string; topic: (n: string) => string },
): SinkCommand[] {
  return [
    upsertCommand(http, { ...options, entity: 'account', object: 'Account', mapping: accountMapping }),
    upsertCommand(http, { ...options, entity: 'contact', object: 'Contact', mapping: contactMapping }),
  ];
}
