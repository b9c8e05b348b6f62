import { z } from 'zod';
import { declareComponent } from '../../platform/declaration.ts';
import { CONNECTOR_CONTROL_TOPIC } from './control.ts';
import { SOURCE_OFFSETS_TOPIC } from './source-offsets.ts';

/**
 * Owner of the connectors' shared state topics (source offsets, pause/resume control), which
 * every connector uses but none may own alone. Settings match the runtime's ensureTopic calls.
 */
export const connectorRuntimeDeclaration = declareComponent({
  name: 'connector.runtime',
  kind: 'connector',
  description: 'Shared connector runtime: source cursors of every connector and operator pause/resume.',
  config: z.object({}).describe('The runtime has no settings of its own; each connector configures it'),
  topics: [
    {
      name: SOURCE_OFFSETS_TOPIC,
      description:
        'Cursor of each source stream, keyed <connector>/<stream>; JSON, compacted, read whole on start.',
      valueSchema: '',
      keyType: 'string',
      partitions: 1,
      cleanupPolicy: 'compact',
      retentionMs: -1,
      configs: { 'min.compaction.lag.ms': '60000' },
    },
    {
      name: CONNECTOR_CONTROL_TOPIC,
      description:
        'Operator commands to running connectors (pause/resume), keyed by connector; JSON, compacted.',
      valueSchema: '',
      keyType: 'string',
      partitions: 1,
      cleanupPolicy: 'compact',
      retentionMs: -1,
    },
  ],
  produces: [],
  consumes: [],
  create: () => ({ start: async () => undefined, close: async () => undefined }),
});
