import { HubError } from '../core/errors.ts';
import { declareComponent } from '../platform/declaration.ts';
import { ACTIONS_TOPIC, type HubContext } from '../platform/index.ts';
import { auditConsumerConfigSchema, createAuditConsumer } from './consumer.ts';

/**
 * The audit consumer's declaration. It owns no topic: `hub.actions` belongs to the hub
 * declaration, since every component writes it. `deps.kafka` is the HubContext.
 */
export const auditDeclaration = declareComponent({
  name: 'audit',
  kind: 'audit',
  description:
    'Records every hub action from hub.actions in an encrypted, hash-chained, signed log (one chain per partition), verifiable with `tributary audit verify`.',
  config: auditConsumerConfigSchema,
  topics: [],
  produces: [],
  consumes: [ACTIONS_TOPIC],
  create(config, deps) {
    const hub = deps.kafka as Partial<HubContext> | undefined;
    if (!hub?.kafka || !hub.serde) {
      throw new HubError(
        'AUDIT_DEPS',
        'the audit consumer needs the HubContext (kafka and serde) as deps.kafka',
      );
    }
    return createAuditConsumer(config, {
      kafka: hub.kafka,
      serde: hub.serde,
      logger: deps.logger,
      ...(deps.clock ? { clock: deps.clock } : {}),
    });
  },
});
