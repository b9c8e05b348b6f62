import { silentLogger } from '../core/logger.ts';
import { ACTIONS_TOPIC } from '../platform/actions.ts';
import { type ComponentDeclaration, declareComponent } from '../platform/declaration.ts';
import { createIngress } from './component.ts';
import { type IngressConfig, ingressConfigSchema } from './config.ts';

/**
 * The ingress's declaration. Its types come from the other components' commands, which a
 * component may not import; so, like the bridge's, it is made by a factory handed the hub's
 * list lazily (topology/declarations.ts: `ingressDeclaration(() => hubDeclarations)`). It owns
 * no topic: command topics belong to the components that accept them.
 */
export function ingressDeclaration(
  listDeclarations: () => readonly ComponentDeclaration<unknown>[],
): ComponentDeclaration<IngressConfig> {
  const others = () => listDeclarations().filter((d) => d.name !== 'ingress');
  return declareComponent<IngressConfig>({
    name: 'ingress',
    kind: 'ingress',
    description:
      'HTTP ingress: systems push command events (POST /v1/events/{type}, validated against the Avro schema, Idempotency-Key honoured) and page through topics; bearer JWT, per-type permissions, every call audited.',
    config: ingressConfigSchema as unknown as ComponentDeclaration<IngressConfig>['config'],
    topics: [],
    get produces() {
      const commandTopics = others().flatMap((d) => (d.commands ?? []).map((c) => c.topic));
      return [ACTIONS_TOPIC, ...new Set(commandTopics)];
    },
    consumes: [],
    create(config, deps) {
      const hub = deps.hub;
      const ingress = createIngress(config, {
        hub,
        declarations: others(),
        logger: deps.logger ?? silentLogger(),
      });
      return {
        async start() {
          await ingress.start();
        },
        close: () => ingress.close(),
        status: () => ingress.status(),
      };
    },
  });
}
