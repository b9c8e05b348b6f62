import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { UsageError } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import { serveStandalone, standaloneHttp } from '../../hub/standalone.ts';
import { createIngress, type Ingress, ingressOpenApi, ingressTypesOf } from '../../ingress/index.ts';
import type { ComponentDeclaration, ComponentDeps } from '../../platform/declaration.ts';
import { loadCatalog } from '../../schemas/index.ts';
import { issueDevelopmentToken } from '../../security/index.ts';
import { authFiles, ldapFrom, parseList, parsePort, sessionRedis } from './http-auth.ts';

/**
 * `tributary ingress ...`: run the HTTP ingress, print its OpenAPI document, mint development
 * tokens for systems that push. Users, policy and signing key are the MCP bridge's (one login
 * serves both); everything comes from the environment (see `--help`).
 */

export interface IngressCommandOptions {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  /** Stops `serve` (tests); default SIGINT/SIGTERM. */
  stopSignal?: AbortSignal;
  /** Told where `serve` listens, once it does. */
  onListening?: (url: string) => void;
}

const envHelp = `
Environment:
  REDIS_URL                     sessions, rate limits, idempotency keys (default: a local redis-server is started)
  LDAP_URL                      LDAP directory (default: the local users file); LDAP_USER_DN_TEMPLATE, LDAP_GROUPS_BASE_DN as for mcp
  TRIBUTARY_MCP_USERS           local users file, shared with the bridge (default <TRIBUTARY_HOME>/mcp/users.json)
  TRIBUTARY_MCP_POLICY          policy file: roles allow \`ingress:<type>\` and \`read:<topic>\` patterns (default built in: admins only)
  TRIBUTARY_MCP_KEY_FILE        ES256 signing key, shared by all instances (default <TRIBUTARY_HOME>/mcp/signing-key.pem)
  TRIBUTARY_INGRESS_PUBLIC_URL  origin clients use, e.g. behind a load balancer (default http://host:port)
  TRIBUTARY_INGRESS_MAX_BODY    largest event body in bytes (default 262144)
  KAFKA_BROKERS                 where events and audit actions go`;

function parsePositive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${name} must be a positive integer, not "${value}"`);
  return n;
}

async function declarationsOfHub() {
  const { hubDeclarations } = await import('../../topology/declarations.ts');
  return hubDeclarations.filter((d) => d.name !== 'ingress');
}

function stopped(signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((done) => {
    if (signal) {
      if (signal.aborted) return done();
      signal.addEventListener('abort', () => done(), { once: true });
      return;
    }
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
}

/** Registers `tributary ingress serve | openapi | token`. */
export function registerIngressCommands(program: Command, options: IngressCommandOptions = {}): void {
  const env = options.env ?? process.env;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const say = (text: string) => void process.stderr.write(`tributary: ${text}\n`);
  const group = program
    .command('ingress')
    .description('HTTP ingress: systems push events (POST /v1/events/{type}) and page through topics')
    .addHelpText('after', envHelp);

  group
    .command('serve')
    .description('Run the ingress: bearer JWTs from POST /auth/login, OpenAPI at /openapi.json')
    .option('--port <port>', 'HTTP port (0 picks a free one)', '7400')
    .option('--host <host>', 'HTTP interface', '127.0.0.1')
    .option(
      '--metrics-port <port>',
      'health/readiness/metrics port (TRIBUTARY_METRICS_PORT; default 0, a free one)',
    )
    .action(async (opts: { port?: string; host: string; metricsPort?: string }) => {
      const port = parsePort(opts.port, 7400);
      const maxBodyBytes = parsePositive('TRIBUTARY_INGRESS_MAX_BODY', env.TRIBUTARY_INGRESS_MAX_BODY);
      const { redis, stop: stopRedis } = await sessionRedis(env, say, 'ingress');
      const files = authFiles(env);
      const { hubDeclarations } = await import('../../topology/declarations.ts');
      const own = hubDeclarations.find((d) => d.name === 'ingress') as ComponentDeclaration;
      const declarations = await declarationsOfHub();
      let ingress: Ingress | undefined;
      let url = '';
      // The declared ingress component over this command's Redis, files and settings.
      const declaration: ComponentDeclaration = {
        ...own,
        create: (config: { topicPrefix?: string }, deps: ComponentDeps) => {
          const created = createIngress(
            {
              port,
              host: opts.host,
              ...(env.TRIBUTARY_INGRESS_PUBLIC_URL ? { publicUrl: env.TRIBUTARY_INGRESS_PUBLIC_URL } : {}),
              ...(maxBodyBytes ? { maxBodyBytes } : {}),
              ...(env.LDAP_URL ? { ldap: ldapFrom(env) } : {}),
              ...(env.TRIBUTARY_MCP_POLICY ? { policyFile: env.TRIBUTARY_MCP_POLICY } : {}),
              usersFile: files.users,
              signingKeyFile: files.key,
              ...(config.topicPrefix ? { topicPrefix: config.topicPrefix } : {}),
            },
            { hub: deps.hub, declarations, logger: deps.logger ?? createLogger('ingress'), redis },
          );
          ingress = created;
          return {
            start: async () => {
              url = (await created.start()).url;
            },
            close: () => created.close(),
            status: () => ({ ...created.status(), url: url || null }),
          };
        },
      };
      try {
        await serveStandalone({
          name: 'ingress',
          env,
          declarations: [declaration],
          sections: { ingress: {} },
          http: standaloneHttp(env, opts.metricsPort),
          say,
          ...(options.stopSignal ? { until: () => stopped(options.stopSignal) } : {}),
          onReady: () => {
            say(
              `HTTP ingress at ${url} accepting ${ingress?.types().length ?? 0} event types (OpenAPI: ${url}/openapi.json); Ctrl-C stops it`,
            );
            options.onListening?.(url);
          },
        });
      } finally {
        redis.disconnect();
        await stopRedis();
      }
    });

  group
    .command('openapi')
    .description(
      'Print the OpenAPI 3.1 document of the ingress (generated from the declarations and schemas)',
    )
    .option('--url <origin>', 'server origin written into the document', 'http://127.0.0.1:7400')
    .action(async (opts: { url: string }) => {
      const catalog = await loadCatalog();
      const types = ingressTypesOf(await declarationsOfHub(), catalog);
      write(`${JSON.stringify(ingressOpenApi(types, catalog, new URL(opts.url).origin), null, 2)}\n`);
    });

  group
    .command('token')
    .description('Development: open a session for a user or system and print an ingress access token')
    .requiredOption('--user <name>', 'user name (the token subject, the events’ actor)')
    .option('--roles <roles>', 'roles, comma-separated', 'admin')
    .option(
      '--url <origin>',
      'public origin of the ingress (the audience is <origin>/v1)',
      env.TRIBUTARY_INGRESS_PUBLIC_URL ?? 'http://127.0.0.1:7400',
    )
    .option('--ttl <seconds>', 'token lifetime', '900')
    .action(async (opts: { user: string; roles: string; url: string; ttl: string }) => {
      if (!env.REDIS_URL)
        throw new UsageError('REDIS_URL is not set', 'the token needs the session store the ingress uses');
      const ttl = parsePositive('--ttl', opts.ttl) ?? 900;
      const origin = new URL(opts.url).origin;
      const roles = parseList(opts.roles);
      const redis = new Redis(env.REDIS_URL);
      try {
        const token = await issueDevelopmentToken({
          redis,
          user: opts.user,
          roles,
          origin,
          audience: `${origin}/v1`,
          ttlSeconds: ttl,
          signingKeyPath: authFiles(env).key,
          failureCode: 'INGRESS_TOKEN_FAILED',
        });
        write(`${token}\n`);
      } finally {
        redis.disconnect();
      }
    });
}
