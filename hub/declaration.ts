import { z } from 'zod';
import { declareComponent } from '../platform/declaration.ts';

/** Compacted topic every hub process heartbeats to, keyed by instance id. */
export const INSTANCES_TOPIC = '_tributary.instances';
export const HEARTBEAT_EVENT_TYPE = 'tributary.ops.InstanceHeartbeat';

/**
 * The process host (`tributary up`, hub/run-hub.ts): it owns the instance registry topic that
 * `tributary status` reads. It runs no work of its own, so its component is a no-op.
 */
export const hubRunnerDeclaration = declareComponent({
  name: 'hub.runner',
  kind: 'hub',
  description:
    'The process host that runs components (tributary up): config, lifecycle, instance registry, health and metrics.',
  config: z.object({}).describe('Settings of the runner live at the top of the hub config (hub/config.ts)'),
  topics: [
    {
      name: INSTANCES_TOPIC,
      description:
        'Instance registry: the latest heartbeat of every hub process (roles, version, component states, lag); a tombstone when it stops.',
      valueSchema: HEARTBEAT_EVENT_TYPE,
      keyType: 'string',
      partitions: 1,
      cleanupPolicy: 'compact',
      // Compaction keeps the latest heartbeat per instance; tombstones vanish after a day.
      retentionMs: -1,
      configs: { 'delete.retention.ms': String(24 * 60 * 60 * 1000), 'segment.ms': String(60 * 60 * 1000) },
    },
  ],
  produces: [INSTANCES_TOPIC],
  consumes: [INSTANCES_TOPIC],
  create: () => ({
    start: async () => undefined,
    close: async () => undefined,
  }),
});
