import { z } from 'zod';
import { ACTION_EVENT_TYPE, ACTIONS_TOPIC } from './actions.ts';
import { declareComponent } from './declaration.ts';
import { SCHEMA_LOG_TOPIC } from './schema-log.ts';

/** Topics no single component owns: the audit action stream and the embedded schema log. */
export const hubDeclaration = declareComponent({
  name: 'hub',
  kind: 'hub',
  description:
    'The hub itself: the action topic every component reports to, and the internal state the platform keeps in Kafka.',
  config: z
    .object({})
    .describe('The hub platform has no settings of its own; Kafka comes from KAFKA_* variables'),
  topics: [
    {
      name: ACTIONS_TOPIC,
      description:
        'Audit actions of every component (sync batches, pushes, tool calls, logins, replays, redrives).',
      valueSchema: ACTION_EVENT_TYPE,
      keyType: 'string',
      partitions: 3,
      cleanupPolicy: 'delete',
      // A year: the audit consumer may be down or replaying long after the fact.
      retentionMs: 365 * 24 * 60 * 60 * 1000,
      deadLetter: true,
    },
    {
      name: SCHEMA_LOG_TOPIC,
      description:
        'Embedded schema registry: one record per registered schema, compacted, read whole on start (unused when SCHEMA_REGISTRY_URL is set).',
      // Records are the registry's own JSON, not Avro events.
      valueSchema: '',
      keyType: 'string',
      partitions: 1,
      cleanupPolicy: 'compact',
      retentionMs: -1,
    },
  ],
  // Every component writes hub.actions; the platform writes the schema log on their behalf.
  produces: [ACTIONS_TOPIC, SCHEMA_LOG_TOPIC],
  consumes: [SCHEMA_LOG_TOPIC],
  create: () => ({
    start: async () => undefined,
    close: async () => undefined,
  }),
});
