import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { UsageError } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import { serveStandalone, standaloneHttp } from '../../hub/standalone.ts';
import {
  createKafkaHubTools,
  createMcpBridge,
  createPolicy,
  createReplyRouter,
  defaultPolicy,
  hubTools,
  issueDevelopmentToken,
  loadPolicy,
  type McpBridge,
  type Policy,
  progressTopicsOf,
  resultTopicsOf,
  serveStdio,
  toolsFromDeclarations,
  upsertLocalUser,
} from '../../mcp-bridge/index.ts';
import type { ComponentDeclaration, ComponentDeps } from '../../platform/declaration.ts';
import { createActionEmitter, createHubContext } from '../../platform/index.ts';
import { authFiles, ldapFrom, parseList, parsePort, sessionRedis } from './http-auth.ts';

/**
 * `tributary mcp ...`: run the MCP bridge (Streamable HTTP or stdio), manage the local users
 * file, and mint development tokens. Everything comes from the environment (see `--help`).
 */

export interface McpCommandOptions {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  /** Reads the password for `users add` (default: stdin). */
  readPassword?: () => Promise<string>;
}

const envHelp = `
Environment:
  REDIS_URL                 sessions and rate limits (default: a local redis-server is started)
  LDAP_URL                  LDAP directory (default: the local users file)
  LDAP_USER_DN_TEMPLATE     DN of a user, {user} is the escaped name (default uid={user},ou=people,dc=tributary,dc=test)
  LDAP_GROUPS_BASE_DN       where groups are searched (default ou=groups,dc=tributary,dc=test)
  TRIBUTARY_MCP_USERS       local users file (default <TRIBUTARY_HOME>/mcp/users.json)
  TRIBUTARY_MCP_POLICY      policy file, YAML or JSON: groups -> roles -> tool patterns (default built in)
  TRIBUTARY_MCP_KEY_FILE    ES256 signing key, shared by all instances (default <TRIBUTARY_HOME>/mcp/signing-key.pem)
  TRIBUTARY_MCP_PUBLIC_URL  origin clients use, e.g. behind a load balancer (default http://host:port)
  KAFKA_BROKERS             where audit actions go (hub.actions)
  TRIBUTARY_AUDIT_DIR       audit folder audit.verify checks (default .tributary/audit)
  TRIBUTARY_AUDIT_KEY_FILE  audit keys (default .tributary/audit-keys.json when it exists; or TRIBUTARY_AUDIT_KEYS)`;

async function policyFrom(env: NodeJS.ProcessEnv): Promise<Policy> {
  return env.TRIBUTARY_MCP_POLICY ? await loadPolicy(env.TRIBUTARY_MCP_POLICY) : createPolicy(defaultPolicy);
}

/** What `replay.start`, `audit.verify` and `connectors.status` need, from the options and environment. */
async function hostToolsFrom(env: NodeJS.ProcessEnv, connectorsConfigFile: string | undefined) {
  const { readConnectorsConfig } = await import('../../connectors/index.ts');
  const keyFile =
    env.TRIBUTARY_AUDIT_KEY_FILE ??
    (env.TRIBUTARY_AUDIT_KEYS || !existsSync('.tributary/audit-keys.json')
      ? undefined
      : '.tributary/audit-keys.json');
  return {
    audit: {
      dir: resolve(env.TRIBUTARY_AUDIT_DIR ?? '.tributary/audit'),
      env,
      ...(keyFile ? { keyFile } : {}),
    },
    connectorsConfig: await readConnectorsConfig(connectorsConfigFile),
  };
}

/** Registers `tributary mcp serve | users add | token`. */
export function registerMcpCommands(program: Command, options: McpCommandOptions = {}): void {
  const env = options.env ?? process.env;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const say = (text: string) => void process.stderr.write(`tributary: ${text}\n`);
  const group = program
    .command('mcp')
    .description('The MCP bridge: AI agents call hub tools over Streamable HTTP or stdio')
    .addHelpText('after', envHelp);

  group
    .command('serve')
    .description('Run the bridge: HTTP with login and bearer JWTs, or --stdio as the local operator')
    .option('--stdio', 'serve one client on stdin/stdout, acting as the operator identity')
    .option('--port <port>', 'HTTP port (0 picks a free one)', '7300')
    .option('--host <host>', 'HTTP interface', '127.0.0.1')
    .option('--operator <name>', 'operator identity for --stdio (default $USER)')
    .option('--roles <roles>', 'operator roles for --stdio, comma-separated', 'admin')
    .option(
      '-c, --connectors-config <file>',
      'connectors config, for connectors.status (group ids, offsets topic)',
    )
    .option(
      '--metrics-port <port>',
      'HTTP mode: health/readiness/metrics port (TRIBUTARY_METRICS_PORT; default 0, a free one)',
    )
    .action(
      async (opts: {
        stdio?: boolean;
        port?: string;
        host: string;
        operator?: string;
        roles: string;
        connectorsConfig?: string;
        metricsPort?: string;
      }) => {
        const port = parsePort(opts.port, 7300);
        if (!opts.stdio) return await serveHttpBridge(env, { ...opts, port }, say);
        const logger = createLogger('mcp-bridge');
        const hub = await createHubContext({ env, logger });
        const { hubDeclarations } = await import('../../topology/declarations.ts');
        const { buildHubTopology } = await import('../../topology/hub-topology.ts');
        const topology = () => buildHubTopology();
        const declarations = hubDeclarations.filter((d) => d.name !== 'mcp-bridge');
        const { hubHostTools } = await import('../../topology/hub-tools/index.ts');
        const extraTools = hubHostTools({ hub, ...(await hostToolsFrom(env, opts.connectorsConfig)) });
        try {
          const policy = await policyFrom(env);
          const emitter = createActionEmitter({ producer: hub.producer, source: 'mcp-bridge' });
          const router = createReplyRouter({
            kafka: hub.kafka,
            serde: hub.serde,
            producer: hub.producer,
            resultTopics: resultTopicsOf(declarations),
            progressTopics: progressTopicsOf(declarations),
            logger,
          });
          await router.start();
          const topicSchemas = new Map(
            declarations.flatMap((d) => d.topics.map((t) => [t.name, t.valueSchema] as const)),
          );
          const kafkaTools = createKafkaHubTools(hub, topicSchemas);
          const tools = [
            ...hubTools,
            ...kafkaTools.tools,
            ...extraTools,
            ...toolsFromDeclarations(declarations, hub.catalog, router.runCommand),
          ];
          const name = opts.operator ?? env.USER ?? 'operator';
          const stdio = await serveStdio(
            { name, roles: parseList(opts.roles) },
            {
              tools,
              policy,
              logger,
              emitAction: (action) => emitter.emit(action),
              resources: { catalog: hub.catalog, topology },
            },
          );
          await new Promise<void>((done) => process.stdin.once('end', () => done()));
          await stdio.close();
          await router.close();
          await kafkaTools.close();
        } finally {
          await hub.close();
        }
      },
    );

  const users = group.command('users').description('The local users file (used when LDAP_URL is not set)');
  users
    .command('add <name>')
    .description('Add or replace a user; the password is read from stdin (or TRIBUTARY_MCP_PASSWORD)')
    .option('--groups <groups>', 'comma-separated groups, mapped to roles by the policy', '')
    .action(async (name: string, opts: { groups: string }) => {
      const password = env.TRIBUTARY_MCP_PASSWORD ?? (await (options.readPassword ?? readStdin)());
      if (!password)
        throw new UsageError('no password given', 'pipe it on stdin or set TRIBUTARY_MCP_PASSWORD');
      if (password.length < 8) throw new UsageError('the password must have at least 8 characters');
      const file = authFiles(env).users;
      await upsertLocalUser(file, name, password, parseList(opts.groups));
      write(`user ${name} saved in ${file}\n`);
    });

  group
    .command('token')
    .description('Development: open a session for a user and print an access token (no password check)')
    .requiredOption('--user <name>', 'user name (the token subject)')
    .option('--roles <roles>', 'roles, comma-separated', 'admin')
    .option(
      '--url <origin>',
      'public origin of the bridge (the audience)',
      env.TRIBUTARY_MCP_PUBLIC_URL ?? 'http://127.0.0.1:7300',
    )
    .option('--ttl <seconds>', 'token lifetime', '900')
    .action(async (opts: { user: string; roles: string; url: string; ttl: string }) => {
      if (!env.REDIS_URL)
        throw new UsageError('REDIS_URL is not set', 'the token needs the session store the bridge uses');
      const ttl = Number(opts.ttl);
      if (!Number.isInteger(ttl) || ttl <= 0) throw new UsageError('--ttl must be a positive integer');
      const origin = new URL(opts.url).origin;
      const redis = new Redis(env.REDIS_URL);
      try {
        const token = await issueDevelopmentToken({
          redis,
          user: opts.user,
          roles: parseList(opts.roles),
          origin,
          audience: `${origin}/mcp`,
          ttlSeconds: ttl,
          signingKeyPath: authFiles(env).key,
          failureCode: 'MCP_TOKEN_FAILED',
        });
        write(`${token}\n`);
      } finally {
        redis.disconnect();
      }
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * `mcp serve` over HTTP: the bridge component in a standalone process (registry heartbeat,
 * health, metrics, tracing, bounded graceful shutdown), with a local redis-server unless REDIS_URL.
 */
async function serveHttpBridge(
  env: NodeJS.ProcessEnv,
  opts: { port: number; host: string; connectorsConfig?: string; metricsPort?: string },
  say: (text: string) => void,
): Promise<void> {
  const { hubDeclarations } = await import('../../topology/declarations.ts');
  const { buildHubTopology } = await import('../../topology/hub-topology.ts');
  const { hubHostTools } = await import('../../topology/hub-tools/index.ts');
  const declarations = hubDeclarations.filter((d) => d.name !== 'mcp-bridge');
  const own = hubDeclarations.find((d) => d.name === 'mcp-bridge') as ComponentDeclaration;
  const hostTools = await hostToolsFrom(env, opts.connectorsConfig);
  const http = standaloneHttp(env, opts.metricsPort);
  const { redis, stop } = await sessionRedis(env, say, 'bridge');
  const files = authFiles(env);
  let bridge: McpBridge | undefined;
  // The declared bridge component over this command's Redis, files and host tools.
  const declaration: ComponentDeclaration = {
    ...own,
    create: (config: { topicPrefix?: string }, deps: ComponentDeps) => {
      const created = createMcpBridge(
        {
          port: opts.port,
          host: opts.host,
          ...(env.TRIBUTARY_MCP_PUBLIC_URL ? { publicUrl: env.TRIBUTARY_MCP_PUBLIC_URL } : {}),
          ...(env.LDAP_URL ? { ldap: ldapFrom(env) } : {}),
          ...(env.TRIBUTARY_MCP_POLICY ? { policyFile: env.TRIBUTARY_MCP_POLICY } : {}),
          usersFile: files.users,
          signingKeyFile: files.key,
          ...(config.topicPrefix ? { topicPrefix: config.topicPrefix } : {}),
        },
        {
          hub: deps.hub,
          declarations,
          logger: deps.logger ?? createLogger('mcp-bridge'),
          redis,
          topology: () => buildHubTopology(),
          extraTools: hubHostTools({ hub: deps.hub, ...hostTools }),
        },
      );
      bridge = created;
      return {
        start: async () => void (await created.start()),
        close: () => created.close(),
        status: () => created.status(),
      };
    },
  };
  try {
    await serveStandalone({
      name: 'mcp-bridge',
      env,
      declarations: [declaration],
      sections: { 'mcp-bridge': {} },
      http,
      say,
      onReady: () =>
        say(
          `MCP bridge at ${String(bridge?.status().resourceUrl)} with ${bridge?.tools().length ?? 0} tools (login: POST /auth/login); Ctrl-C stops it`,
        ),
    });
  } finally {
    redis.disconnect();
    await stop();
  }
}
