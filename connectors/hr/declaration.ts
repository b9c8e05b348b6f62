import { z } from 'zod';
import { ACTIONS_TOPIC } from '../../platform/actions.ts';
import { declareComponent, type TopicDeclaration } from '../../platform/declaration.ts';
import { assembleConnector, connectorRuntimeSchema, topicName } from '../runtime/connector.ts';
import { createHttpClient, httpClientSchema } from '../runtime/http-client.ts';
import { SOURCE_OFFSETS_TOPIC } from '../runtime/source-offsets.ts';
import { hrLookupCommands } from './lookup.ts';
import { hrSinkCommands } from './sink.ts';
import { hrEntities, hrSourceStreams } from './source.ts';

export const hrConfigSchema = connectorRuntimeSchema
  .extend({
    http: httpClientSchema
      .default({
        endpoints: { urls: ['http://127.0.0.1:4714/scim/v2'] },
        auth: { type: 'bearer', token: { env: 'HR_SCIM_TOKEN' } },
      } as never)
      .describe('SCIM base URL(s) of the HR system, bearer token, retries, timeouts'),
    entities: z
      .array(z.enum(hrEntities))
      .default([...hrEntities])
      .describe('Resources the source follows'),
  })
  .describe('HR connector over SCIM 2.0 (Users with the enterprise extension, Groups)');

export type HrConfig = z.infer<typeof hrConfigSchema>;

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

/** The HR connector: pulls employees and groups; pushes employee upserts and deactivations. */
export const hrConnector = declareComponent<HrConfig>({
  name: 'connector.hr',
  kind: 'connector',
  description:
    'HR over SCIM 2.0: sync of employees (users with employee number, department, manager) and groups by meta.lastModified; creates, PATCH updates and deactivations.',
  config: hrConfigSchema as unknown as z.ZodType<HrConfig>,
  topics: [
    topic(
      'hr.employee.changed',
      'An employee created, changed or deactivated in HR (key: SCIM id).',
      'tributary.hr.EmployeeChanged',
    ),
    topic(
      'hr.group.changed',
      'A group created or changed in HR (key: SCIM id).',
      'tributary.hr.GroupChanged',
    ),
    topic(
      'hr.employee.upsert.cmd',
      'Commands to create or update an employee by userName.',
      'tributary.hr.EmployeeUpsert',
    ),
    topic(
      'hr.employee.deactivate.cmd',
      'Commands to deactivate an employee.',
      'tributary.hr.EmployeeDeactivate',
    ),
    topic(
      'hr.employee.get.cmd',
      'Queries for one employee by userName or employee number.',
      'tributary.hr.EmployeeGet',
    ),
    topic(
      'hr.employee.get.res',
      'Answers to employee queries: found with the record, or not found.',
      'tributary.hr.EmployeeGetResult',
      false,
    ),
    topic(
      'hr.employee.upsert.res',
      'Outcome of each employee upsert, with the HR answer.',
      'tributary.hr.EmployeeCommandResult',
      false,
    ),
    topic(
      'hr.employee.deactivate.res',
      'Outcome of each deactivation, with the HR answer.',
      'tributary.hr.EmployeeCommandResult',
      false,
    ),
  ],
  produces: [
    'hr.employee.changed',
    'hr.group.changed',
    'hr.employee.upsert.res',
    'hr.employee.deactivate.res',
    'hr.employee.get.res',
    ACTIONS_TOPIC,
    SOURCE_OFFSETS_TOPIC,
  ],
  consumes: [
    'hr.employee.upsert.cmd',
    'hr.employee.deactivate.cmd',
    'hr.employee.get.cmd',
    SOURCE_OFFSETS_TOPIC,
  ],
  commands: [
    {
      name: 'hr.employee.upsert',
      title: 'Create or update an employee',
      description:
        'Creates the employee when the userName is new, otherwise changes the given fields with SCIM PATCH operations.',
      topic: 'hr.employee.upsert.cmd',
      resultTopic: 'hr.employee.upsert.res',
      mutating: true,
    },
    {
      name: 'hr.employee.deactivate',
      title: 'Deactivate an employee',
      description: 'Sets active=false on the employee; the account stays for the records.',
      topic: 'hr.employee.deactivate.cmd',
      resultTopic: 'hr.employee.deactivate.res',
      mutating: true,
    },
    {
      name: 'hr.employee.get',
      title: 'Look up an employee',
      description:
        'Reads one employee from HR by userName (default) or employee number; answers found=false when there is none.',
      topic: 'hr.employee.get.cmd',
      resultTopic: 'hr.employee.get.res',
      mutating: false,
    },
  ],
  create(config, deps) {
    const http = createHttpClient(config.http, { logger: deps.logger });
    const topicOf = (name: string) => topicName(config, name);
    return assembleConnector(
      {
        name: 'connector.hr',
        system: 'hr',
        http,
        streams: hrSourceStreams(http, {
          pageSize: config.pageSize,
          topic: topicOf,
          entities: config.entities,
        }),
        commands: [...hrSinkCommands(http, topicOf), ...hrLookupCommands(http, topicOf)],
      },
      config,
      deps,
    );
  },
});
