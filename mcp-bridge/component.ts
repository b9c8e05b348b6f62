import { Redis } from 'ioredis';
import { z } from 'zod';
import { HubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ComponentDeclaration } from '../platform/declaration.ts';
import { ACTIONS_TOPIC, createActionEmitter, type HubContext } from '../platform/index.ts';
import type { Directory, EmitAction } from '../security/index.ts';
import {
  createLdapDirectory,
  createLocalUsersDirectory,
  createPolicy,
  defaultPolicy,
  ldapDirectoryConfig,
  loadOrCreateSigningKey,
  loadPolicy,
  type Policy,
} from '../security/index.ts';
import { bridgeConfigSchema } from './config.ts';
import { createKafkaHubTools, hubTools, type KafkaHubTools } from './hub-tools.ts';
import { CANCEL_TOPIC, createReplyRouter, type ReplyRouter } from './reply-router.ts';
import { type BridgeHttpServer, createBridgeHttpServer } from './server.ts';
import type { BridgeTool } from './tools.ts';
import { resolveCommands, toolsFromDeclarations, withTopicPrefix } from './tools-from-declarations.ts';

/**
 * The whole bridge as one component: tools derived from every component's commands, the Kafka
 * reply router, and the HTTP server with its security layer. Built from config plus the hub
 * context; `start()` then `close()`.
 */

export const mcpBridgeConfigSchema = bridgeConfigSchema.extend({
  redisUrl: z
    .string()
    .optional()
    .describe('Redis for sessions and rate limits (REDIS_URL); required for HTTP'),
  ldap: ldapDirectoryConfig.optional().describe('LDAP directory; without it the local users file is used'),
  usersFile: z.string().default('.tributary/mcp/users.json').describe('Local users file (scrypt hashes)'),
  policyFile: z.string().optional().describe('Policy file (YAML/JSON); default: the built-in policy'),
  signingKeyFile: z
    .string()
    .default('.tributary/mcp/signing-key.pem')
    .describe('ES256 signing key shared by every instance; created when missing'),
  toolTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(60_000)
    .describe('How long a tool call waits for its result'),
  topicPrefix: z
    .string()
    .default('')
    .describe(
      'Prefix of every topic name, as the components are configured (tests isolate themselves with it)',
    ),
});
export type McpBridgeConfig = z.infer<typeof mcpBridgeConfigSchema>;

export interface McpBridgeDeps {
  hub: HubContext;
  /** Every component declaration of the hub; their commands become tools. */
  declarations: readonly ComponentDeclaration<unknown>[];
  logger: Logger;
  /** Overrides: an existing Redis connection, an audit sink, a directory (tests). */
  redis?: Redis;
  emitAction?: EmitAction;
  directory?: Directory;
  /** The hub topology for the `tributary://topology` resource (topology/ lives above components). */
  topology?: () => unknown | Promise<unknown>;
  /**
   * Tools built by the layers above components (replay, audit verify, connector status from
   * topology/hub-tools): the bridge offers them like its own, under the same policy.
   */
  extraTools?: readonly BridgeTool[];
}

export interface McpBridge {
  start(): Promise<{ url: string; resourceUrl: string }>;
  close(): Promise<void>;
  /** The tools offered (after start). */
  tools(): readonly BridgeTool[];
  status(): Record<string, unknown>;
}

/** Topics of progress events: declared topics whose value schema is a `...Progress` event. */
export function progressTopicsOf(declarations: readonly ComponentDeclaration<unknown>[]): string[] {
  return declarations.flatMap((d) =>
    d.topics.filter((t) => t.valueSchema.endsWith('Progress')).map((t) => t.name),
  );
}

/** Every result topic the bridge must follow for the given declarations. */
export function resultTopicsOf(declarations: readonly ComponentDeclaration<unknown>[]): string[] {
  return [...new Set(resolveCommands(declarations).map((c) => c.resultTopic))];
}

/** Two tools with one name would make the policy and `tools/call` ambiguous: refuse at start. */
function assertUniqueNames(tools: readonly BridgeTool[]): void {
  const seen = new Set<string>();
  for (const tool of tools) {
    if (seen.has(tool.name)) {
      throw new HubError('TOOLS_DUPLICATE', `two tools are named ${tool.name}`, {
        hint: 'an extra tool must not reuse the name of a hub tool or a declared command',
      });
    }
    seen.add(tool.name);
  }
}

/** Builds the bridge component. */
export function createMcpBridge(
  input: z.input<typeof mcpBridgeConfigSchema>,
  deps: McpBridgeDeps,
): McpBridge {
  const config = mcpBridgeConfigSchema.parse(input);
  let router: ReplyRouter | undefined;
  let http: BridgeHttpServer | undefined;
  let redis: Redis | undefined;
  let tools: BridgeTool[] = [];
  let kafkaTools: KafkaHubTools | undefined;
  let bound: { url: string; resourceUrl: string; listening: string } | undefined;

  return {
    tools: () => tools,
    // As bound by start() (port 0 resolved), null until started: `listening` is the socket's
    // address, `url` and `resourceUrl` what clients use (the public URL when one is configured).
    status: () => ({
      tools: tools.length,
      pendingCalls: router?.pending() ?? 0,
      url: bound?.url ?? null,
      resourceUrl: bound?.resourceUrl ?? null,
      listening: bound?.listening ?? null,
    }),
    async start() {
      if (http) return await http.start();
      const url = config.redisUrl;
      if (!deps.redis && !url) {
        throw new HubError('CONFIG_INVALID', 'the MCP bridge needs Redis for sessions', {
          hint: 'set REDIS_URL, or run `tributary mcp serve`, which starts a local redis-server',
        });
      }
      redis = deps.redis ?? new Redis(url as string, { maxRetriesPerRequest: 3 });
      const policy: Policy = config.policyFile
        ? await loadPolicy(config.policyFile)
        : createPolicy(defaultPolicy);
      const directory =
        deps.directory ??
        (config.ldap ? createLdapDirectory(config.ldap) : createLocalUsersDirectory(config.usersFile));
      const emitter = createActionEmitter({
        producer: deps.hub.producer,
        source: 'mcp-bridge',
        topic: config.topicPrefix + ACTIONS_TOPIC,
      });
      const emitAction: EmitAction = deps.emitAction ?? ((action) => emitter.emit(action));
      const declarations = withTopicPrefix(deps.declarations, config.topicPrefix);
      router = createReplyRouter({
        kafka: deps.hub.kafka,
        serde: deps.hub.serde,
        producer: deps.hub.producer,
        resultTopics: resultTopicsOf(declarations),
        progressTopics: progressTopicsOf(declarations),
        cancelTopic: config.topicPrefix + CANCEL_TOPIC,
        timeoutMs: config.toolTimeoutMs,
        logger: deps.logger,
      });
      const topicSchemas = new Map(
        declarations.flatMap((d) => d.topics.map((t) => [t.name, t.valueSchema] as const)),
      );
      kafkaTools = createKafkaHubTools(deps.hub, topicSchemas);
      tools = [
        ...hubTools,
        ...kafkaTools.tools,
        ...(deps.extraTools ?? []),
        ...toolsFromDeclarations(declarations, deps.hub.catalog, router.runCommand),
      ];
      assertUniqueNames(tools);
      await router.start();
      http = createBridgeHttpServer(config, {
        redis,
        directory,
        policy,
        signingKey: await loadOrCreateSigningKey(config.signingKeyFile),
        tools,
        emitAction,
        logger: deps.logger,
        resources: { catalog: deps.hub.catalog, ...(deps.topology ? { topology: deps.topology } : {}) },
      });
      const started = await http.start();
      const address = http.address();
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      bound = { ...started, listening: `http://${host}:${address.port}` };
      return started;
    },
    async close() {
      await http?.close();
      http = undefined;
      bound = undefined;
      await router?.close();
      router = undefined;
      await kafkaTools?.close();
      kafkaTools = undefined;
      if (redis && !deps.redis) redis.disconnect();
      redis = undefined;
    },
  };
}
