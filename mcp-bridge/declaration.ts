import { silentLogger } from '../core/logger.ts';
import { ACTIONS_TOPIC } from '../platform/actions.ts';
import { type ComponentDeclaration, declareComponent } from '../platform/declaration.ts';
import type { HubContext } from '../platform/index.ts';
import { createMcpBridge, type McpBridgeConfig, mcpBridgeConfigSchema, resultTopicsOf } from './component.ts';
import { CANCEL_EVENT_TYPE, CANCEL_TOPIC } from './reply-router.ts';
import type { BridgeTool } from './tools.ts';
import { resolveCommands } from './tools-from-declarations.ts';

/**
 * The bridge's declaration. Its tools come from the other components' commands, which a
 * component may not import; so the declaration is made by a factory that is handed the
 * hub's list lazily (topology/declarations.ts: `mcpBridgeDeclaration(() => hubDeclarations)`).
 * The command and result topics are owned by their components; the bridge owns its cancel topic.
 */
export function mcpBridgeDeclaration(
  listDeclarations: () => readonly ComponentDeclaration<unknown>[],
  options: {
    /** Tools of the layers above components (topology/hub-tools `hubHostTools`), built per hub context. */
    extraTools?: (hub: HubContext) => readonly BridgeTool[];
  } = {},
): ComponentDeclaration<McpBridgeConfig> {
  const others = () => listDeclarations().filter((d) => d.name !== 'mcp-bridge');
  return declareComponent<McpBridgeConfig>({
    name: 'mcp-bridge',
    kind: 'bridge',
    description:
      'MCP server (stdio and Streamable HTTP): every declared command is a tool; calls go out as command events and come back as results, matched by correlation id.',
    config: mcpBridgeConfigSchema as unknown as ComponentDeclaration<McpBridgeConfig>['config'],
    topics: [
      {
        name: CANCEL_TOPIC,
        description: 'Tool calls the client cancelled or that timed out, so the working component can stop.',
        valueSchema: CANCEL_EVENT_TYPE,
        keyType: 'string',
        partitions: 3,
        cleanupPolicy: 'delete',
        retentionMs: 7 * 24 * 60 * 60 * 1000,
      },
    ],
    get produces() {
      return [ACTIONS_TOPIC, CANCEL_TOPIC, ...new Set(resolveCommands(others()).map((c) => c.topic))];
    },
    get consumes() {
      return resultTopicsOf(others());
    },
    create(config, deps) {
      const hub = deps.hub;
      const bridge = createMcpBridge(config, {
        hub,
        declarations: others(),
        logger: deps.logger ?? silentLogger(),
        ...(options.extraTools ? { extraTools: options.extraTools(hub) } : {}),
      });
      return {
        async start() {
          await bridge.start();
        },
        close: () => bridge.close(),
        status: () => bridge.status(),
      };
    },
  });
}
