import { z } from 'zod';
import { ACTIONS_TOPIC } from '../platform/actions.ts';
import { declareComponent } from '../platform/declaration.ts';
import { REDRIVEN_TOPIC } from './dlq/markers.ts';
import { REPLAYS_TOPIC } from './replay/checkpoint.ts';

/**
 * The recovery tools (`tributary replay`, `tributary dlq`) run from the CLI, not as a hosted
 * component, but they keep state in two compacted topics; this declaration owns those so the
 * topology creates them with the settings the tools expect. Its factory hosts nothing.
 */
export const recoveryToolsDeclaration = declareComponent({
  name: 'hub.recovery',
  kind: 'hub',
  description:
    'Replay and dead-letter tools (tributary replay, tributary dlq): checkpoints and redrive markers.',
  config: z.object({}).describe('The tools take their settings from the command line'),
  topics: [
    {
      name: REPLAYS_TOPIC,
      description: 'Replay checkpoints (tributary replay --into): latest progress per replay id; JSON.',
      valueSchema: '',
      keyType: 'string',
      partitions: 1,
      cleanupPolicy: 'compact',
      retentionMs: -1,
    },
    {
      name: REDRIVEN_TOPIC,
      description: 'Dead letters already sent back, one marker each, keyed <dlq>/<partition>/<offset>; JSON.',
      valueSchema: '',
      keyType: 'string',
      partitions: 1,
      cleanupPolicy: 'compact',
      retentionMs: -1,
    },
  ],
  produces: [REPLAYS_TOPIC, REDRIVEN_TOPIC, ACTIONS_TOPIC],
  consumes: [REPLAYS_TOPIC, REDRIVEN_TOPIC],
  create: () => ({ start: async () => undefined, close: async () => undefined }),
});
