import { z } from 'zod';
import { ACTIONS_TOPIC } from '../../platform/actions.ts';
import { declareComponent } from '../../platform/declaration.ts';
import { assembleConnector, connectorRuntimeSchema, topicName } from '../runtime/connector.ts';
import { createHttpClient, httpClientSchema } from '../runtime/http-client.ts';
import { SOURCE_OFFSETS_TOPIC } from '../runtime/source-offsets.ts';
import { erpLookupCommands } from './lookup.ts';
import { erpSinkCommands } from './sink.ts';
import { erpEntities, erpSourceStreams } from './source.ts';

export const erpConfigSchema = connectorRuntimeSchema
  .extend({
    http: httpClientSchema
      .extend({
        idempotencyHeader: z
          .string()
          .default('Repeatability-Request-ID')
          .describe('OData Repeatable Requests header carrying the command id'),
      })
      .default({
        endpoints: { urls: ['http://127.0.0.1:4004/erp'] },
      } as never)
      .describe('OData service root(s) of the ERP, auth, retries, timeouts'),
    entities: z
      .array(z.enum(erpEntities))
      .default([...erpEntities])
      .describe('Entities the source follows'),
  })
  .describe('ERP connector over OData v4 (SAP S/4HANA, Dynamics 365, SAP CAP)');

export type ErpConfig = z.infer<typeof erpConfigSchema>;

const changed = (entity: string, schema: string, what: string) => ({
  name: `erp.${entity}.changed`,
  description: `${what} created or changed in the ERP (key: ERP id).`,
  valueSchema: schema,
  keyType: 'string' as const,
  partitions: 3,
  cleanupPolicy: 'delete' as const,
  deadLetter: true,
});

/** The query topics of one ERP lookup: commands in, answers out (no DLQ for answers). */
const lookupTopics = (entity: string, type: string, what: string) => [
  {
    name: `erp.${entity}.get.cmd`,
    description: `Queries for one ${what} of the ERP by its number.`,
    valueSchema: `tributary.erp.${type}Get`,
    keyType: 'string' as const,
    partitions: 3,
    deadLetter: true,
  },
  {
    name: `erp.${entity}.get.res`,
    description: `Answers to ${what} queries: found with the record, or not found.`,
    valueSchema: `tributary.erp.${type}GetResult`,
    keyType: 'string' as const,
    partitions: 3,
  },
];

/** The ERP connector: pulls sales orders, customers and invoices; pushes sales order upserts. */
export const erpConnector = declareComponent<ErpConfig>({
  name: 'connector.erp',
  kind: 'connector',
  description:
    'ERP over OData v4: incremental sync of sales orders (with items), customers and invoices by modification time; sales order upserts with ETags.',
  config: erpConfigSchema as unknown as z.ZodType<ErpConfig>,
  topics: [
    changed('sales-order', 'tributary.erp.SalesOrderChanged', 'A sales order'),
    changed('customer', 'tributary.erp.CustomerChanged', 'A customer'),
    changed('invoice', 'tributary.erp.InvoiceChanged', 'An invoice'),
    {
      name: 'erp.sales-order.upsert.cmd',
      description: 'Commands to create or update a sales order in the ERP.',
      valueSchema: 'tributary.erp.SalesOrderUpsert',
      keyType: 'string',
      partitions: 3,
      deadLetter: true,
    },
    ...lookupTopics('sales-order', 'SalesOrder', 'sales order'),
    ...lookupTopics('customer', 'Customer', 'customer'),
    {
      name: 'erp.sales-order.upsert.res',
      description: 'Outcome of each sales order upsert, with the ERP answer.',
      valueSchema: 'tributary.erp.SalesOrderUpsertResult',
      keyType: 'string',
      partitions: 3,
    },
  ],
  produces: [
    'erp.sales-order.changed',
    'erp.customer.changed',
    'erp.invoice.changed',
    'erp.sales-order.upsert.res',
    'erp.sales-order.get.res',
    'erp.customer.get.res',
    ACTIONS_TOPIC,
    SOURCE_OFFSETS_TOPIC,
  ],
  consumes: [
    'erp.sales-order.upsert.cmd',
    'erp.sales-order.get.cmd',
    'erp.customer.get.cmd',
    SOURCE_OFFSETS_TOPIC,
  ],
  commands: [
    {
      name: 'erp.sales-order.upsert',
      title: 'Create or update an ERP sales order',
      description:
        'Creates the sales order when its number is new, otherwise updates the given fields; with ifMatch set, fails instead of overwriting a newer version.',
      topic: 'erp.sales-order.upsert.cmd',
      resultTopic: 'erp.sales-order.upsert.res',
      mutating: true,
    },
    {
      name: 'erp.sales-order.get',
      title: 'Look up an ERP sales order',
      description:
        'Reads one sales order (with its items) from the ERP by order number; answers found=false when there is none.',
      topic: 'erp.sales-order.get.cmd',
      resultTopic: 'erp.sales-order.get.res',
      mutating: false,
    },
    {
      name: 'erp.customer.get',
      title: 'Look up an ERP customer',
      description:
        'Reads one customer from the ERP by customer number; answers found=false when there is none.',
      topic: 'erp.customer.get.cmd',
      resultTopic: 'erp.customer.get.res',
      mutating: false,
    },
  ],
  create(config, deps) {
    const http = createHttpClient(config.http, { logger: deps.logger });
    const topic = (name: string) => topicName(config, name);
    return assembleConnector(
      {
        name: 'connector.erp',
        system: 'erp',
        http,
        streams: erpSourceStreams(http, { pageSize: config.pageSize, topic, entities: config.entities }),
        commands: [...erpSinkCommands(http, topic), ...erpLookupCommands(http, topic)],
      },
      config,
      deps,
    );
  },
});
