/** Public surface of the MCP bridge; other layers (topology, CLI) import from here only. */

export { avroFieldToJsonSchema, avroToJsonSchema, type JsonSchema } from '../schemas/index.ts';
export type {
  BridgeAction,
  BridgeIdentity,
  Directory,
  DirectoryUser,
  EmitAction,
} from '../security/index.ts';
export {
  allowedAlgorithms,
  createAuthenticator,
  createLdapDirectory,
  createLocalUsersDirectory,
  createPolicy,
  createSessionStore,
  createTokenService,
  defaultPolicy,
  escapeDnValue,
  escapeFilterValue,
  generateSigningKeyPem,
  hashPassword,
  issueDevelopmentToken,
  ldapDirectoryConfig,
  loadOrCreateSigningKey,
  loadPolicy,
  type Policy,
  policySchema,
  protectedResourceMetadata,
  resourceMetadataPath,
  type SessionStore,
  type TokenService,
  upsertLocalUser,
  verifyPassword,
} from '../security/index.ts';
export {
  createMcpBridge,
  type McpBridge,
  type McpBridgeConfig,
  mcpBridgeConfigSchema,
  progressTopicsOf,
  resultTopicsOf,
} from './component.ts';
export { type BridgeConfig, bridgeConfigSchema } from './config.ts';
export { mcpBridgeDeclaration } from './declaration.ts';
export { createKafkaHubTools, hubTools, whoamiTool } from './hub-tools.ts';
export { createBridgeMcpServer } from './mcp-server.ts';
export { CANCEL_EVENT_TYPE, CANCEL_TOPIC, createReplyRouter, type ReplyRouter } from './reply-router.ts';
export { type BridgeHttpServer, createBridgeHttpServer } from './server.ts';
export { serveStdio } from './stdio.ts';
export type { BridgeTool, ToolCallContext, ToolOutcome } from './tools.ts';
export { resolveCommands, toolsFromDeclarations } from './tools-from-declarations.ts';
