import { connectorConfig, connectorDeclarations, createSourceOffsetStore } from '../../connectors/index.ts';
import { INSTANCES_TOPIC } from '../../hub/declaration.ts';
import { readInstances } from '../../hub/registry.ts';
import type { BridgeTool } from '../../mcp-bridge/index.ts';
import { createOffsetAdmin } from '../../platform/group-offsets.ts';
import type { HubContext } from '../../platform/index.ts';

/**
 * `connectors.status`: what `tributary connectors status` prints, as data. Per connector: the
 * source cursor of every stream (from the compacted source-offsets topic), the sink's consumer
 * group state, and what the live hub instances report of it (heartbeats on `_tributary.instances`).
 */

export interface ConnectorsStatusDeps {
  hub: HubContext;
  /** The connectors config (as `tributary connectors run -c` reads it): group ids, offsets topic, prefix. */
  connectorsConfig?: Record<string, unknown>;
  /** Registry topic of hub instances (default `_tributary.instances`). */
  instancesTopic?: string;
}

interface ConnectorTarget {
  name: string;
  groupId: string;
  offsetsTopic: string;
}

function targets(config: Record<string, unknown>): ConnectorTarget[] {
  return connectorDeclarations.map((d) => {
    const c = connectorConfig(d as never, config);
    return {
      name: d.name,
      groupId: String(c.groupId ?? d.name),
      offsetsTopic: String(c.offsetsTopic),
    };
  });
}

export function connectorsStatusTool(deps: ConnectorsStatusDeps): BridgeTool {
  const list = targets(deps.connectorsConfig ?? {});
  return {
    name: 'connectors.status',
    title: 'Connector status',
    description:
      'Lists the ERP, CRM and HR connectors with the source cursor of each stream, the sink consumer group state, and the state live hub instances report.',
    mutating: false,
    inputSchema: {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Only this connector (erp, crm, hr or connector.<name>).' },
      },
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: {
        connectors: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              sink: {
                type: 'object',
                properties: {
                  groupId: { type: 'string' },
                  state: { type: 'string', description: 'Consumer group state (Stable, Empty, Dead...).' },
                  members: { type: 'integer' },
                },
                required: ['groupId', 'state', 'members'],
              },
              streams: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    stream: { type: 'string' },
                    cursor: {
                      type: ['object', 'null'],
                      description: 'Last committed position; null: from the beginning.',
                    },
                    committedAt: { type: 'string' },
                  },
                  required: ['stream', 'cursor', 'committedAt'],
                },
              },
              instances: {
                type: 'array',
                description: 'Live hub instances running this connector, with the state they report.',
                items: {
                  type: 'object',
                  properties: {
                    instanceId: { type: 'string' },
                    state: { type: 'string' },
                    breakers: { type: 'object' },
                    heartbeatAt: { type: 'string' },
                  },
                  required: ['instanceId', 'state'],
                },
              },
            },
            required: ['name', 'sink', 'streams', 'instances'],
          },
        },
      },
      required: ['connectors'],
    },
    async run(args) {
      const wanted = typeof args.name === 'string' ? args.name : undefined;
      const chosen = list.filter(
        (t) => wanted === undefined || t.name === wanted || t.name === `connector.${wanted}`,
      );
      const admin = createOffsetAdmin(deps.hub.kafka);
      await admin.start();
      try {
        const registry = deps.instancesTopic ?? INSTANCES_TOPIC;
        // No registry topic: no hub ever ran here, and reading it would only wait for a timeout.
        const live = (await admin.topicExists(registry))
          ? (await readInstances({ hub: deps.hub, topic: registry })).filter((i) => !i.stale)
          : [];
        const offsetStores = new Map<string, ReturnType<typeof createSourceOffsetStore>>();
        const connectors = [];
        try {
          for (const t of chosen) {
            let offsets = offsetStores.get(t.offsetsTopic);
            if (!offsets) {
              offsets = createSourceOffsetStore({
                kafka: deps.hub.kafka,
                producer: deps.hub.producer,
                topic: t.offsetsTopic,
              });
              offsetStores.set(t.offsetsTopic, offsets);
              await offsets.start();
            }
            const group = await admin.describeGroup(t.groupId);
            connectors.push({
              name: t.name,
              sink: { groupId: t.groupId, state: group.state, members: group.members.length },
              streams: offsets.list(`${t.name}/`).map((o) => ({
                stream: o.key.slice(t.name.length + 1),
                cursor: o.cursor,
                committedAt: new Date(o.committedAt).toISOString(),
              })),
              instances: live.flatMap((i) =>
                i.components
                  .filter((c) => c.name === t.name)
                  .map((c) => ({
                    instanceId: i.instanceId,
                    state: c.state,
                    breakers: c.breakers,
                    heartbeatAt: new Date(i.heartbeatAt).toISOString(),
                  })),
              ),
            });
          }
        } finally {
          await Promise.allSettled([...offsetStores.values()].map((o) => o.close()));
        }
        return { structuredContent: { connectors } };
      } finally {
        await admin.close();
      }
    },
  };
}
