import { randomUUID } from 'node:crypto';
import { HubError, toHubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createHubAdmin, type HubAdmin } from '../platform/admin.ts';
import type { ComponentDeclaration } from '../platform/declaration.ts';
import { createHubContext, startTracing } from '../platform/index.ts';
import { applyTopology, planTopology, readActualTopics } from '../topology/apply.ts';
import { DLQ_SUFFIX } from '../topology/dlq/index.ts';
import { renderTopologySvg } from '../topology/graph.ts';
import { buildHubTopology } from '../topology/hub-topology.ts';
import { type Cleanup, unwindCleanups, unwindWithin } from './cleanups.ts';
import { type HubConfig, loadHubConfig } from './config.ts';
import { attachConsole } from './console/attach.ts';
import type { ConsoleOperations } from './console/operations.ts';
import { consoleRoutes } from './console/routes.ts';
import { INSTANCES_TOPIC } from './declaration.ts';
import { type DemoSystem, demoChangeEveryMs, startDemoSystems } from './demo-systems.ts';
import { provideKafka } from './embedded.ts';
import { withHostTools } from './host-tools.ts';
import { createOpsServer, type OpsServer, type Readiness } from './http.ts';
import { createHubMetrics } from './metrics.ts';
import { type ComponentBeat, createHeartbeat, type Heartbeat } from './registry.ts';
import {
  defaultDeclarations,
  hubVersion,
  prepareSections,
  processLoggers,
  readinessOf,
} from './run-support.ts';
import { type HostedComponent, startComponents } from './supervisor.ts';

/**
 * `tributary up`: every declared component (or `only` those named) in one process, on the
 * embedded defaults unless the environment says otherwise. Start-up order: config (validated
 * first, so a typo costs nothing), health server, Kafka, topology, demo systems, components,
 * heartbeat. Shutdown runs the other way, bounded by `shutdownTimeoutMs`.
 */

export interface RunHubOptions {
  env?: NodeJS.ProcessEnv;
  /** Declared names to run (`--only`); wins over the config's `enabled`. */
  only?: string[];
  /** `--config` path, or the parsed file (tests); TRIBUTARY_CONFIG when omitted. */
  config?: string | Record<string, unknown>;
  /** `--no-demo` passes false. */
  demo?: boolean;
  logger?: Logger;
  /** Lines for the person starting the hub (progress, warnings); stderr in the CLI. */
  onProgress?: (line: string) => void;
  /** Declarations to host instead of the hub's (tests). */
  declarations?: readonly ComponentDeclaration[];
  /** Test-only prefix of every topic the hub creates; handed to components with a `topicPrefix` key and the audit. */
  topicPrefix?: string;
}

export interface HubEndpoints {
  kafka: { brokers: string; origin: string };
  http: string;
  mcp?: { url: string; token: string };
  ingress?: string;
  demo: { title: string; url: string }[];
  auditDir?: string;
}

export interface RunningHub {
  readonly instanceId: string;
  readonly config: HubConfig;
  readonly endpoints: HubEndpoints;
  readonly components: readonly HostedComponent[];
  readiness(): Readiness;
  /** Human-readable lines saying where to connect. */
  describe(): string[];
  /** Graceful shutdown in reverse order within the bound; resolves `timedOut` when it was cut short. Idempotent. */
  close(reason?: string): Promise<{ timedOut: boolean }>;
}

/** Starts the hub; rejects (closing whatever it started) when config or any component fails. */
export async function runHub(options: RunHubOptions = {}): Promise<RunningHub> {
  const env = options.env ?? process.env;
  const say = options.onProgress ?? (() => undefined);
  const instanceId = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const { logger, loggerFor } = processLoggers('hub', instanceId, options.logger);
  const declarations = options.declarations ?? defaultDeclarations();
  const prefix = options.topicPrefix ?? '';
  const config = await loadHubConfig({
    declarations,
    env,
    ...(options.config !== undefined ? { file: options.config } : {}),
    ...(options.only ? { only: options.only } : {}),
    ...(options.demo !== undefined ? { demo: options.demo } : {}),
  });
  const version = hubVersion();
  const startedAt = Date.now();
  const cleanups: Cleanup[] = [];
  let hosted: HostedComponent[] = [];
  let heartbeat: Heartbeat | undefined;
  let closing: Promise<{ timedOut: boolean }> | undefined;

  const metrics = createHubMetrics({ instanceId, version, components: () => hosted });
  const readiness = (): Readiness => readinessOf(hosted, heartbeat, config.heartbeatIntervalMs);
  const lastBeats = new Map<string, ComponentBeat>();
  let topologySvg: Promise<string> | undefined;
  let operations: ConsoleOperations | undefined;
  const consoleApi = consoleRoutes({
    instanceId,
    version,
    readiness,
    components: () => hosted,
    lastBeats: () => lastBeats,
    topologySvg: () => topologySvg,
    operations: () => operations,
  });
  const ops: OpsServer = createOpsServer({
    host: config.http.host,
    port: config.http.port,
    readiness,
    metrics,
    identity: { instanceId, version },
    routes: consoleApi.routes,
    postRoutes: consoleApi.postRoutes,
  });

  try {
    // First in, last out: spans of the whole start-up and shutdown are exported.
    const tracing = await startTracing({ env, serviceVersion: version, instanceId, logger });
    cleanups.push({ what: 'tracing', run: () => tracing.shutdown() });
    if (tracing.enabled) say('tracing: on (OTEL_* variables); spans go to the configured exporter');
    const httpUrl = await ops.start();
    cleanups.push({ what: 'health server', run: () => ops.close() });

    const kafka = await provideKafka(env, say);
    const hubEnv = { ...env, KAFKA_BROKERS: kafka.value };
    const context = await createHubContext({ env: hubEnv, logger });
    cleanups.push({ what: 'hub context', run: () => context.close() });
    const adminClient: HubAdmin = createHubAdmin(context.kafka);
    cleanups.push({ what: 'admin client', run: () => adminClient.close() });
    try {
      await adminClient.start();
    } catch (err) {
      throw new HubError(
        'HUB_KAFKA_UNREACHABLE',
        `cannot reach Kafka at ${kafka.value}: ${toHubError(err).message}`,
        {
          cause: err,
          retriable: true,
          hint: 'start it (tributary kafka up) or point KAFKA_BROKERS at a running cluster',
        },
      );
    }

    const { brokerCount } = await adminClient.cluster();
    const topology = buildHubTopology({
      env,
      brokerCount,
      declarations,
      ...(prefix ? { prefix } : {}),
      schemaExists: (name) => context.catalog.has(name),
    });
    // Without the .dlq and .retry topics (the dead-letter panel lists those): the picture stays legible.
    topologySvg = renderTopologySvg(topology, { includeDerived: false });
    topologySvg.catch((err: unknown) => logger.warn({ err }, 'cannot draw the topology for the console'));
    const plan = planTopology(topology, await readActualTopics(topology, adminClient));
    const applied = await applyTopology(plan, adminClient, { prune: false });
    say(
      `topology: ${topology.topics.length} topics; ${applied.created.length} created, ${applied.altered.length} altered, ${applied.partitionsAdded.length} grown${applied.drift.length ? `, ${applied.drift.length} drifted (see tributary topology apply)` : ''}`,
    );

    let demo: DemoSystem[] = [];
    if (config.demo) {
      demo = await startDemoSystems(config.enabled, demoChangeEveryMs(env));
      cleanups.push({ what: 'demo systems', run: () => Promise.all(demo.map((d) => d.close())) });
      for (const d of demo) say(`${d.title} at ${d.url}`);
    }

    const prepared = await prepareSections({
      config,
      env: hubEnv,
      demo,
      say,
      cleanups,
      declarations,
      ...(prefix ? { topicPrefix: prefix } : {}),
    });
    hosted = await startComponents({
      declarations: withHostTools(declarations, prepared, hubEnv, prefix),
      enabled: config.enabled,
      sections: prepared.sections,
      hub: context,
      logger,
      loggerFor,
      metrics,
      say,
      cleanups,
    });
    operations = await attachConsole({
      hub: context,
      hosted: () => hosted,
      prepared,
      env: hubEnv,
      prefix: prefix ?? '',
      deadLetterTopics: topology.topics.map((t) => t.name).filter((name) => name.endsWith(DLQ_SUFFIX)),
      logger,
      cleanups,
    });

    const beat = createHeartbeat({
      hub: context,
      topic: prefix + INSTANCES_TOPIC,
      intervalMs: config.heartbeatIntervalMs,
      identity: { instanceId, version, roles: config.enabled, startedAt },
      logger,
      snapshot: async () => ({
        state: closing ? 'stopping' : 'ready',
        httpUrl,
        components: await Promise.all(
          hosted.map(async (c) => {
            const part = await c.beat(adminClient, metrics);
            lastBeats.set(c.name, part);
            return part;
          }),
        ),
      }),
    });
    heartbeat = beat;
    // Registered last so it runs first on shutdown: the tombstone says "gone" before work stops.
    cleanups.push({ what: 'heartbeat', run: () => beat.close() });
    await beat.start();

    const endpoints: HubEndpoints = {
      kafka: { brokers: kafka.value, origin: kafka.origin },
      http: httpUrl,
      demo: demo.map((d) => ({ title: d.title, url: d.url })),
      ...(prepared.mcpUrl
        ? {
            mcp: {
              // Where the bridge bound (a port 0 resolved), else what its section says.
              url: boundUrl(hosted, 'mcp-bridge', 'resourceUrl') ?? prepared.mcpUrl,
              token: prepared.mcpToken ?? '',
            },
          }
        : {}),
      ...(prepared.ingressUrl ? { ingress: prepared.ingressUrl } : {}),
      ...(prepared.auditDir ? { auditDir: prepared.auditDir } : {}),
    };
    const running: RunningHub = {
      instanceId,
      config,
      endpoints,
      components: hosted,
      readiness,
      describe: () => describeEndpoints(instanceId, version, endpoints, config.enabled),
      close(reason = 'close() called') {
        closing ??= (async () => {
          logger.info({ reason }, 'shutting down');
          say(
            `stopping (${reason}); components close in reverse order within ${config.shutdownTimeoutMs} ms`,
          );
          return await unwindWithin(cleanups, logger, config.shutdownTimeoutMs);
        })();
        return closing;
      },
    };
    logger.info({ components: config.enabled, httpUrl }, 'hub ready');
    return running;
  } catch (err) {
    logger.error({ err }, 'hub start-up failed');
    await unwindCleanups(cleanups, logger);
    throw toHubError(err, 'HUB_START');
  }
}

/** A URL a running component reports in its status (`resourceUrl` of the bridge), if any. */
function boundUrl(hosted: readonly HostedComponent[], name: string, field: string): string | undefined {
  const status = hosted.find((c) => c.name === name)?.status() as Record<string, unknown> | undefined;
  const value = status?.[field];
  return typeof value === 'string' ? value : undefined;
}

/** The "where to connect" block printed once the hub is ready. */
export function describeEndpoints(
  instanceId: string,
  version: string,
  endpoints: HubEndpoints,
  components: readonly string[],
): string[] {
  const lines = [
    `ready: tributary ${version} instance ${instanceId} runs ${components.join(', ')}`,
    `  Kafka brokers:   ${endpoints.kafka.brokers} (${endpoints.kafka.origin})`,
    `  console:         ${endpoints.http}/`,
    `  health/metrics:  ${endpoints.http}/healthz  ${endpoints.http}/readyz  ${endpoints.http}/metrics`,
  ];
  if (endpoints.mcp) {
    lines.push(`  MCP endpoint:    ${endpoints.mcp.url}`);
    lines.push(`  MCP token:       ${endpoints.mcp.token}`);
  }
  if (endpoints.ingress) {
    lines.push(
      `  HTTP ingress:    ${endpoints.ingress}/v1/events/{type}  (OpenAPI: ${endpoints.ingress}/openapi.json)`,
    );
  }
  for (const d of endpoints.demo) lines.push(`  ${d.title}: ${d.url}`);
  if (endpoints.auditDir)
    lines.push(
      `  audit store:     ${endpoints.auditDir} (tributary audit verify --dir ${endpoints.auditDir})`,
    );
  lines.push('  status:          tributary status   (Ctrl-C or SIGTERM stops the hub gracefully)');
  return lines;
}
