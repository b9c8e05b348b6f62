import type { z } from 'zod';
import { type ComponentDeps, declareComponent } from '../platform/declaration.ts';
import { ACTIONS_TOPIC } from '../platform/index.ts';
import { ANCHOR_TOPIC } from './anchors.ts';
import { type AuditConsumer, auditConsumerConfigSchema, createAuditConsumer } from './consumer.ts';
import { createThreadedAuditConsumer } from './consumer-threads.ts';
import type { AuditKeyRing } from './keys.ts';

/** An audit section as the hub parses it (defaults filled in). */
export type AuditConsumerSection = z.infer<typeof auditConsumerConfigSchema>;

/**
 * The audit consumer's declaration. It owns the checkpoint anchor topic; `hub.actions` belongs
 * to the hub declaration, since every component writes it. `deps.hub` is the HubContext.
 */
export const auditDeclaration = declareComponent({
  name: 'audit',
  kind: 'audit',
  description:
    'Records every hub action from hub.actions in an encrypted, hash-chained, signed log (one chain per partition), verifiable with `tributary audit verify`.',
  config: auditConsumerConfigSchema,
  topics: [
    {
      name: ANCHOR_TOPIC,
      description:
        'Latest signed checkpoint of every audit chain, keyed by action topic and chain, so a chain cut together with its checkpoints is still caught (verify --anchors).',
      // The checkpoint's own signed JSON, not an Avro event.
      valueSchema: '',
      keyType: 'string',
      partitions: 1,
      cleanupPolicy: 'compact',
      retentionMs: -1,
    },
  ],
  produces: [ANCHOR_TOPIC],
  consumes: [ACTIONS_TOPIC],
  create: (config, deps) => createAuditComponent(config, deps),
});

/**
 * The audit consumer for a parsed audit section: on `threads` worker threads when more than one
 * (each loads the keys from the section's key file or the hub's environment), else on this
 * thread, with `keys` when the caller loaded them already (`tributary audit run`).
 */
export function createAuditComponent(
  config: AuditConsumerSection,
  deps: ComponentDeps,
  keys?: AuditKeyRing,
): AuditConsumer {
  const hub = deps.hub;
  if (config.threads > 1) {
    return createThreadedAuditConsumer(config, { settings: hub.settings, logger: deps.logger });
  }
  return createAuditConsumer(config, {
    kafka: hub.kafka,
    serde: hub.serde,
    ...(hub.producer ? { producer: hub.producer } : {}),
    logger: deps.logger,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(keys ? { keys } : {}),
  });
}
