import { z } from 'zod';
import { ACTIONS_TOPIC } from '../../platform/actions.ts';
import { declareComponent, type TopicDeclaration } from '../../platform/declaration.ts';
import { assembleConnector, connectorRuntimeSchema, topicName } from '../runtime/connector.ts';
import { createHttpClient, httpClientSchema } from '../runtime/http-client.ts';
import { SOURCE_OFFSETS_TOPIC } from '../runtime/source-offsets.ts';
import { crmLookupCommands } from './lookup.ts';
import { crmSinkCommands } from './sink.ts';
import { crmEntities, crmSourceStreams } from './source.ts';

export const crmConfigSchema = connectorRuntimeSchema
  .extend({
    http: httpClientSchema
      .default({
        endpoints: { urls: ['http://127.0.0.1:4713'] },
        auth: {
          type: 'oauth2-client-credentials',
          tokenUrl: 'http://127.0.0.1:4713/services/oauth2/token',
          clientId: 'crm-demo-client',
          clientSecret: { env: 'CRM_CLIENT_SECRET' },
        },
      } as never)
      .describe('Instance URL(s) of the CRM, OAuth2 client credentials, retries, timeouts'),
    apiVersion: z
      .string()
      .regex(/^\d+\.\d$/)
      .default('60.0')
      .describe('REST API version, e.g. 60.0'),
    entities: z
      .array(z.enum(crmEntities))
      .default([...crmEntities])
      .describe('sObjects the source follows'),
  })
  .describe('CRM connector over Salesforce-style REST (SOQL + upsert by external id)');

export type CrmConfig = z.infer<typeof crmConfigSchema>;

const topic = (
  name: string,
  description: string,
  valueSchema: string,
  deadLetter = true,
): TopicDeclaration => ({
  name,
  description,
  valueSchema,
  keyType: 'string',
  partitions: 3,
  deadLetter,
});

/** The CRM connector: pulls accounts, contacts and opportunities; pushes account and contact upserts. */
export const crmConnector = declareComponent<CrmConfig>({
  name: 'connector.crm',
  kind: 'connector',
  description:
    'CRM over Salesforce-style REST: SOQL sync of accounts, contacts and opportunities by SystemModstamp; upserts by external id.',
  config: crmConfigSchema as unknown as z.ZodType<CrmConfig>,
  topics: [
    topic(
      'crm.account.changed',
      'An account created or changed in the CRM (key: CRM id).',
      'tributary.crm.AccountChanged',
    ),
    topic(
      'crm.contact.changed',
      'A contact created or changed in the CRM (key: CRM id).',
      'tributary.crm.ContactChanged',
    ),
    topic(
      'crm.opportunity.changed',
      'An opportunity created or changed in the CRM (key: CRM id).',
      'tributary.crm.OpportunityChanged',
    ),
    topic(
      'crm.account.upsert.cmd',
      'Commands to create or update an account by external id.',
      'tributary.crm.AccountUpsert',
    ),
    topic(
      'crm.contact.upsert.cmd',
      'Commands to create or update a contact by external id.',
      'tributary.crm.ContactUpsert',
    ),
    topic(
      'crm.account.get.cmd',
      'Queries for one account by external id or CRM id.',
      'tributary.crm.AccountGet',
    ),
    topic(
      'crm.account.get.res',
      'Answers to account queries: found with the record, or not found.',
      'tributary.crm.AccountGetResult',
      false,
    ),
    topic(
      'crm.account.upsert.res',
      'Outcome of each account upsert, with the CRM answer.',
      'tributary.crm.AccountUpsertResult',
      false,
    ),
    topic(
      'crm.contact.upsert.res',
      'Outcome of each contact upsert, with the CRM answer.',
      'tributary.crm.ContactUpsertResult',
      false,
    ),
  ],
  produces: [
    'crm.account.changed',
    'crm.contact.changed',
    'crm.opportunity.changed',
    'crm.account.upsert.res',
    'crm.contact.upsert.res',
    'crm.account.get.res',
    ACTIONS_TOPIC,
    SOURCE_OFFSETS_TOPIC,
  ],
  consumes: ['crm.account.upsert.cmd', 'crm.contact.upsert.cmd', 'crm.account.get.cmd', SOURCE_OFFSETS_TOPIC],
  commands: [
    {
      name: 'crm.account.upsert',
      title: 'Create or update a CRM account',
      description:
        'Creates the account when no account has the external id, otherwise updates the given fields.',
      topic: 'crm.account.upsert.cmd',
      resultTopic: 'crm.account.upsert.res',
      mutating: true,
    },
    {
      name: 'crm.contact.upsert',
      title: 'Create or update a CRM contact',
      description:
        'Creates the contact when no contact has the external id, otherwise updates the given fields.',
      topic: 'crm.contact.upsert.cmd',
      resultTopic: 'crm.contact.upsert.res',
      mutating: true,
    },
    {
      name: 'crm.account.get',
      title: 'Look up a CRM account',
      description:
        'Reads one account from the CRM by external id (default) or CRM id; answers found=false when there is none.',
      topic: 'crm.account.get.cmd',
      resultTopic: 'crm.account.get.res',
      mutating: false,
    },
  ],
  create(config, deps) {
    const http = createHttpClient(config.http, { logger: deps.logger });
    const topicOf = (name: string) => topicName(config, name);
    return assembleConnector(
      {
        name: 'connector.crm',
        system: 'crm',
        http,
        streams: crmSourceStreams(http, {
          apiVersion: config.apiVersion,
          pageSize: config.pageSize,
          topic: topicOf,
          entities: config.entities,
        }),
        commands: [
          ...crmSinkCommands(http, { apiVersion: config.apiVersion, topic: topicOf }),
          ...crmLookupCommands(http, { apiVersion: config.apiVersion, topic: topicOf }),
        ],
      },
      config,
      deps,
    );
  },
});
