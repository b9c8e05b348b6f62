import { z } from 'zod';
import { auditDeclaration } from '../audit/declaration.ts';
import { crmConnector } from '../connectors/crm/declaration.ts';
import { erpConnector } from '../connectors/erp/declaration.ts';
import { hrConnector } from '../connectors/hr/declaration.ts';
import { CONNECTOR_CONTROL_TOPIC } from '../connectors/runtime/control.ts';
import { SOURCE_OFFSETS_TOPIC } from '../connectors/runtime/source-offsets.ts';
import { hubRunnerDeclaration } from '../hub/declaration.ts';
import { mcpBridgeDeclaration } from '../mcp-bridge/declaration.ts';
import { type ComponentDeclaration, declareComponent } from '../platform/declaration.ts';
import { hubDeclaration } from '../platform/hub-declaration.ts';
import { audioProcessorDeclaration } from '../processors/audio/declaration.ts';
import { chartProcessorDeclaration } from '../processors/chart/declaration.ts';
import { imageProcessorDeclaration } from '../processors/image/declaration.ts';
import { speechProcessorDeclaration } from '../processors/speech/declaration.ts';

/**
 * Owner of the connectors' shared state topics (source offsets, pause/resume control), which
 * every connector uses but none may own alone. Interim: it belongs in connectors/runtime/ next
 * to the code that creates these topics (same settings as its ensureTopic calls).
 */
const connectorRuntimeDeclaration = declareComponent({
  name: 'connector.runtime',
  kind: 'connector',
  description: 'Shared connector runtime: source cursors of every connector, in one compacted topic.',
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

/**
 * Every component the hub has, by its own declaration. The topology, graph, MCP tools and CLI
 * read this list and nothing else: adding a component means adding its declaration here, once.
 * The bridge's tools come from the other declarations, handed to it lazily.
 */
// biome-ignore lint/suspicious/noExplicitAny: each declaration has its own Config type; the list holds them all.
export const hubDeclarations: readonly ComponentDeclaration<any>[] = [
  hubDeclaration,
  hubRunnerDeclaration,
  connectorRuntimeDeclaration,
  erpConnector,
  crmConnector,
  hrConnector,
  imageProcessorDeclaration,
  audioProcessorDeclaration,
  speechProcessorDeclaration,
  chartProcessorDeclaration,
  auditDeclaration,
  mcpBridgeDeclaration(() => hubDeclarations),
];
