import { randomUUID } from 'node:crypto';
import { HubError, toHubError, UsageError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createHubAdmin, type HubAdmin } from '../platform/admin.ts';
import type { ComponentDeclaration } from '../platform/declaration.ts';
import { ACTIONS_TOPIC, createHubContext, type HubContext, startTracing } from '../platform/index.ts';
import { stallLimitFrom, startStallWatchdog } from '../platform/stall-watchdog.ts';
import { applyTopology, planTopology, readActualTopics } from '../topology/apply.ts';
import { buildHubTopology } from '../topology/hub-topology.ts';
import { type Cleanup, unwindCleanups, unwindWithin } from './cleanups.ts';
import { hubRunnerDeclaration, INSTANCES_TOPIC } from './declaration.ts';
import { createOpsServer, type Readiness } from './http.ts';
import { createHubMetrics, type HubMetrics } from './metrics.ts';
import { createHeartbeat, type Heartbeat } from './registry.ts';
import { hubVersion, processLoggers, readinessOf } from './run-support.ts';
import { type HostedComponent, startComponents } from './supervisor.ts';
import { unknownKeys } from './zod-keys.ts';

/**
 * Components run standalone (`connectors run`, `processors run`, `audit run`, `mcp serve`,
 * `ingress serve`) get what `tributary up` gives its components: OpenTelemetry tracing from the
 * OTEL_* variables (flushed last), a health/readiness/metrics server, a heartbeat to the
 * instance registry (so `tributary status` lists them) and a bounded graceful shutdown.
 */

/** What a runner hands to `host` to start its components in the prepared process. */
export interface HostContext {
  hub: HubContext;
  /** Logger of one component (its name once in `component`, and the instance id). */
  loggerFor: (name: string) => Logger;
  metrics: HubMetrics;
  say: (line: string) => void;
  /** Push what must be closed; shutdown runs them in reverse order. */
  cleanups: Cleanup[];
}

export interface StandaloneOptions {
  /** The process's own name in its log lines (e.g. `connectors`). */
  name: string;
  env: NodeJS.ProcessEnv;
  /** Declarations to run, each with its config section (validated by its schema)... */
  declarations?: readonly ComponentDeclaration[];
  sections?: Record<string, Record<string, unknown>>;
  /** ...or components the runner starts itself (connectors: backoff, pause/resume). */
  host?: (context: HostContext) => Promise<HostedComponent[]>;
  /** Health and metrics server; default from `standaloneHttp(env)`. */
  http?: { host: string; port: number };
  heartbeatIntervalMs?: number;
  shutdownTimeoutMs?: number;
  /** Prefix of the registry topic (tests on a shared broker); default TRIBUTARY_TOPIC_PREFIX. */
  topicPrefix?: string;
  /** A root logger without `component` of its own (tests); by default one per component. */
  logger?: Logger;
  /** A hub context to use instead of one from the environment (it is not closed). */
  hub?: HubContext;
  say?: (line: string) => void;
}

export interface StandaloneProcess {
  readonly instanceId: string;
  /** Base URL of /healthz, /readyz and /metrics. */
  readonly httpUrl: string;
  readonly hub: HubContext;
  readonly components: readonly HostedComponent[];
  readiness(): Readiness;
  /** Tombstone, components in reverse, clients, server, tracing; within the bound. Idempotent. */
  close(reason?: string): Promise<{ timedOut: boolean }>;
}

const DEFAULT_HEARTBEAT_MS = 5_000;
const DEFAULT_SHUTDOWN_MS = 30_000;

function port(value: string, name: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`${name} must be a port 0..65535, not "${value}"`);
  return n;
}

/**
 * Where a standalone runner serves health and metrics: `--metrics-port` (given as `flag`),
 * else TRIBUTARY_METRICS_PORT, else 0 (a free port, printed); host TRIBUTARY_METRICS_HOST or 127.0.0.1.
 */
export function standaloneHttp(env: NodeJS.ProcessEnv, flag?: string): { host: string; port: number } {
  const raw = flag ?? env.TRIBUTARY_METRICS_PORT;
  return {
    host: env.TRIBUTARY_METRICS_HOST || '127.0.0.1',
    port: raw === undefined ? 0 : port(raw, flag === undefined ? 'TRIBUTARY_METRICS_PORT' : '--metrics-port'),
  };
}

/** Starts the process around its components; rejects (closing what it started) when anything fails. */
export async function runStandalone(options: StandaloneOptions): Promise<StandaloneProcess> {
  const { env } = options;
  const say = options.say ?? (() => undefined);
  const instanceId = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const { logger, loggerFor } = processLoggers(options.name, instanceId, options.logger);
  const version = hubVersion();
  const startedAt = Date.now();
  const intervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS;
  const boundMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_MS;
  const prefix = options.topicPrefix ?? env.TRIBUTARY_TOPIC_PREFIX ?? '';
  const cleanups: Cleanup[] = [];
  let hosted: HostedComponent[] = [];
  let heartbeat: Heartbeat | undefined;
  let closing: Promise<{ timedOut: boolean }> | undefined;
  const metrics = createHubMetrics({ instanceId, version, components: () => hosted });
  const readiness = () => readinessOf(hosted, heartbeat, intervalMs);
  const http = options.http ?? standaloneHttp(env);
  const ops = createOpsServer({ ...http, readiness, metrics, identity: { instanceId, version } });

  try {
    // First in, last out: spans of start-up and shutdown are exported too.
    const tracing = await startTracing({ env, serviceVersion: version, instanceId, logger });
    cleanups.push({ what: 'tracing', run: () => tracing.shutdown() });
    // A starved event loop (a kafkajs fetch loop that never yields) ends the process for a restart.
    const watchdog = startStallWatchdog({ stallMs: stallLimitFrom(env), name: options.name });
    cleanups.push({ what: 'stall watchdog', run: () => watchdog.stop() });
    if (tracing.enabled) say('tracing: on (OTEL_* variables); spans go to the configured exporter');
    const httpUrl = await ops.start();
    cleanups.push({ what: 'health server', run: () => ops.close() });
    const hub = options.hub ?? (await createHubContext({ env, logger }));
    if (!options.hub) cleanups.push({ what: 'hub context', run: () => hub.close() });
    const admin: HubAdmin = createHubAdmin(hub.kafka);
    cleanups.push({ what: 'admin client', run: () => admin.close() });
    await admin.start();
    await ensureRegistryTopic(admin, env, prefix);
    await warnMissingTopics(admin, options.declarations ?? [], prefix, say, logger);

    hosted = options.host
      ? await options.host({ hub, loggerFor, metrics, say, cleanups })
      : await startComponents({
          declarations: options.declarations ?? [],
          enabled: (options.declarations ?? []).map((d) => d.name),
          sections: prefixed(options.declarations ?? [], options.sections ?? {}, prefix),
          hub,
          logger,
          loggerFor,
          metrics,
          say,
          cleanups,
        });
    const beat = createHeartbeat({
      hub,
      topic: prefix + INSTANCES_TOPIC,
      intervalMs,
      identity: { instanceId, version, roles: hosted.map((c) => c.name), startedAt },
      logger,
      snapshot: async () => ({
        state: closing ? 'stopping' : 'ready',
        httpUrl,
        components: await Promise.all(hosted.map((c) => c.beat(admin, metrics))),
      }),
    });
    heartbeat = beat;
    // Last in, first out: the tombstone says "gone" before work stops.
    cleanups.push({ what: 'heartbeat', run: () => beat.close() });
    await beat.start();
    logger.info({ components: hosted.map((c) => c.name), httpUrl }, 'standalone ready');
    return {
      instanceId,
      httpUrl,
      hub,
      components: hosted,
      readiness,
      close(reason = 'close() called') {
        closing ??= (async () => {
          logger.info({ reason }, 'shutting down');
          return await unwindWithin(cleanups, logger, boundMs);
        })();
        return closing;
      },
    };
  } catch (err) {
    logger.error({ err }, 'start-up failed');
    await unwindCleanups(cleanups, logger);
    // A runner of its components answers with their own error (PROVIDER_NOT_CONFIGURED, ...).
    const failed = toHubError(err, 'HUB_START');
    throw failed.code === 'HUB_COMPONENT_FAILED' && failed.cause ? toHubError(failed.cause) : failed;
  }
}

/** Test isolation as in `up`: the prefix goes to every section whose schema has `topicPrefix`, unless set. */
function prefixed(
  declarations: readonly ComponentDeclaration[],
  sections: Record<string, Record<string, unknown>>,
  prefix: string,
): Record<string, Record<string, unknown>> {
  if (!prefix) return sections;
  const out = { ...sections };
  for (const d of declarations) {
    if (unknownKeys.shapeKeys(d.config).includes('topicPrefix'))
      out[d.name] = { topicPrefix: prefix, ...(sections[d.name] ?? {}) };
  }
  return out;
}

/** Creates the compacted registry topic when missing (as `up` does with the whole topology). */
async function ensureRegistryTopic(admin: HubAdmin, env: NodeJS.ProcessEnv, prefix: string): Promise<void> {
  const { brokerCount } = await admin.cluster();
  const topology = buildHubTopology({
    env,
    brokerCount,
    declarations: [hubRunnerDeclaration],
    ...(prefix ? { prefix } : {}),
  });
  const plan = planTopology(topology, await readActualTopics(topology, admin));
  await applyTopology(plan, admin, { prune: false });
}

/**
 * Says which topics the components of this process write to do not exist (`tributary topology
 * apply` makes them; a runner makes only its registry topic). A write to a missing topic waits
 * out the producer's retries and then fails, so each audited request would be answered late.
 */
async function warnMissingTopics(
  admin: HubAdmin,
  declarations: readonly ComponentDeclaration[],
  prefix: string,
  say: (line: string) => void,
  logger: Logger,
): Promise<void> {
  const written = new Set([ACTIONS_TOPIC, ...declarations.flatMap((d) => d.produces)]);
  const existing = new Set(await admin.listTopicNames());
  const missing = [...written]
    .map((t) => prefix + t)
    .filter((t) => !existing.has(t))
    .sort();
  if (missing.length === 0) return;
  logger.warn({ missing }, 'topics this process writes to do not exist');
  say(
    `topics this process writes to do not exist: ${missing.join(', ')}; run \`tributary topology apply\` (until then writes to them wait out the producer's retries and fail)`,
  );
}

/** Resolves with the first SIGINT or SIGTERM. */
export function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      done(signal);
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}

/**
 * Runs a standalone process until `until` resolves (default: SIGINT/SIGTERM), then closes it
 * gracefully; a second signal exits at once. Prints where health and metrics answer. A signal
 * during start-up stops it once started. Throws HUB_SHUTDOWN_TIMEOUT when the bound cut it short.
 */
export async function serveStandalone(
  options: StandaloneOptions & {
    /** Resolves when the process should stop; may resolve with an error that stopped it. */
    until?: (running: StandaloneProcess) => Promise<unknown>;
    /** Told once the process is ready. */
    onReady?: (running: StandaloneProcess) => void;
  },
): Promise<StandaloneProcess> {
  const say = options.say ?? (() => undefined);
  let early: NodeJS.Signals | undefined;
  const onEarly = (signal: NodeJS.Signals) => {
    early = signal;
  };
  if (!options.until) {
    process.on('SIGINT', onEarly);
    process.on('SIGTERM', onEarly);
  }
  let running: StandaloneProcess;
  try {
    running = await runStandalone(options);
  } finally {
    process.off('SIGINT', onEarly);
    process.off('SIGTERM', onEarly);
  }
  let stoppedBy: unknown = early;
  if (!early) {
    say(
      `instance ${running.instanceId} runs ${running.components.map((c) => c.name).join(', ')}; health/metrics: ${running.httpUrl}/healthz ${running.httpUrl}/readyz ${running.httpUrl}/metrics`,
    );
    options.onReady?.(running);
    stoppedBy = await (options.until ? options.until(running) : nextSignal());
  }
  const force = (signal: NodeJS.Signals) => {
    say(`${signal} again: exiting without finishing the shutdown`);
    process.exit(1);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  try {
    const reason = stoppedBy instanceof Error ? `failed: ${stoppedBy.message}` : String(stoppedBy ?? 'stop');
    const { timedOut } = await running.close(reason);
    if (stoppedBy instanceof Error) throw stoppedBy;
    if (timedOut) {
      throw new HubError(
        'HUB_SHUTDOWN_TIMEOUT',
        `shutdown took longer than ${options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_MS} ms`,
        { hint: 'some component did not close in time; its in-flight work is redelivered on the next start' },
      );
    }
  } finally {
    process.off('SIGINT', force);
    process.off('SIGTERM', force);
  }
  say('stopped cleanly');
  return running;
}
