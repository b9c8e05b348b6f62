import { auditDeclaration } from '../audit/declaration.ts';
import { connectorRuntimeDeclaration, crmConnector, erpConnector, hrConnector } from '../connectors/index.ts';
import { hubRunnerDeclaration } from '../hub/declaration.ts';
import { ingressDeclaration } from '../ingress/index.ts';
import { mcpBridgeDeclaration } from '../mcp-bridge/declaration.ts';
import type { ComponentDeclaration } from '../platform/declaration.ts';
import { hubDeclaration } from '../platform/hub-declaration.ts';
import { audioProcessorDeclaration } from '../processors/audio/declaration.ts';
import { chartProcessorDeclaration } from '../processors/chart/declaration.ts';
import { imageProcessorDeclaration } from '../processors/image/declaration.ts';
import { speechProcessorDeclaration } from '../processors/speech/declaration.ts';
import { recoveryToolsDeclaration } from './recovery-declaration.ts';

/**
 * Every component the hub has, by its own declaration. The topology, graph, MCP tools and CLI
 * read this list and nothing else: adding a component means adding its declaration here, once.
 * The bridge's tools come from the other declarations, handed to it lazily.
 */
// biome-ignore lint/suspicious/noExplicitAny: each declaration has its own Config type; the list holds them all.
export const hubDeclarations: readonly ComponentDeclaration<any>[] = [
  hubDeclaration,
  hubRunnerDeclaration,
  recoveryToolsDeclaration,
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
  ingressDeclaration(() => hubDeclarations),
];
