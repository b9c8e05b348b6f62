/** Public surface of the MCP bridge; other layers (topology, CLI) import from here only. */
export { createAuthenticator } from './auth/authenticate.ts';
export type { BridgeAction, BridgeIdentity, EmitAction } from './auth/identity.ts';
export { allowedAlgorithms, createTokenService, type TokenService } from './auth/jwt.ts';
export { generateSigningKeyPem, loadOrCreateSigningKey } from './auth/keys.ts';
export { protectedResourceMetadata, resourceMetadataPath } from './auth/resource-metadata.ts';
export { avroFieldToJsonSchema, avroToJsonSchema, type JsonSchema } from './avro-json-schema.ts';
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
export type { Directory, DirectoryUser } from './directory/directory.ts';
export { escapeDnValue, escapeFilterValue } from './directory/escape.ts';
export { createLdapDirectory, ldapDirectoryConfig } from './directory/ldap.ts';
export {
  createLocalUsersDirectory,
  hashPassword,
  upsertLocalUser,
  verifyPassword,
} from './directory/local-users.ts';
export { createKafkaHubTools, hubTools, whoamiTool } from './hub-tools.ts';
export { createBridgeMcpServer } from './mcp-server.ts';
export { createPolicy, defaultPolicy, loadPolicy, type Policy, policySchema } from './policy.ts';
export { CANCEL_EVENT_TYPE, CANCEL_TOPIC, createReplyRouter, type ReplyRouter } from './reply-router.ts';
export { type BridgeHttpServer, createBridgeHttpServer } from './server.ts';
export { createSessionStore, type SessionStore } from './sessions.ts';
export { serveStdio } from './stdio.ts';
export type { BridgeTool, ToolCallContext, ToolOutcome } from './tools.ts';
export { resolveCommands, toolsFromDeclarations } from './tools-from-declarations.ts';
