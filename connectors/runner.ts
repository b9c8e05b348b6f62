import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { HubError, UsageError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import type { ComponentDeclaration } from '../platform/declaration.ts';
import { createHubContext, type HubContext } from '../platform/index.ts';
import { crmConnector } from './crm/declaration.ts';
import { erpConnector } from './erp/declaration.ts';
import { hrConnector } from './hr/declaration.ts';
import type { RunningConnector } from './runtime/connector.ts';
import { type ControlCommand, createConnectorControl } from './runtime/control.ts';

/**
 * Running connectors in a process, as `tributary connectors run` does: config file sections,
 * start with backoff, operator pause/resume from the control topic, stop on a signal.
 */
type AnyDeclaration = ComponentDeclaration<Record<string, unknown>>;
const all = [erpConnector, crmConnector, hrConnector] as unknown as readonly AnyDeclaration[];

/** Finds a connector by `erp` or `connector.erp`. */
export function findConnector(name: string): AnyDeclaration {
  const found = all.find((d) => d.name === name || d.name === `connector.${name}`);
  if (!found)
    throw new UsageError(
      `unknown connector "${name}"`,
      `known: ${all.map((d) => d.name.replace('connector.', '')).join(', ')}`,
    );
  return found;
}

/** Reads the connectors' config file (YAML or JSON): one section per connector, `erp:` or `connector.erp:`. */
export async function readConnectorsConfig(file: string | undefined): Promise<Record<string, unknown>> {
  if (!file) return {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new HubError('CONFIG_UNREADABLE', `cannot read ${file}`, { cause: err, where: { file } });
  }
  const parsed = parseYaml(text) as unknown;
  if (parsed === null || typeof parsed !== 'object')
    throw new HubError('CONFIG_INVALID', `${file} is not a mapping of connector sections`, {
      where: { file },
    });
  return parsed as Record<string, unknown>;
}

/** The parsed config of one connector from the file's section (defaults when absent). */
export function connectorConfig(
  declaration: AnyDeclaration,
  file: Record<string, unknown>,
): Record<string, unknown> {
  const short = declaration.name.replace('connector.', '');
  const section = file[declaration.name] ?? file[short] ?? {};
  const result = (
    declaration.config as unknown as {
      safeParse(v: unknown): {
        success: boolean;
        data?: unknown;
        error?: { issues: { path: PropertyKey[]; message: string }[] };
      };
    }
  ).safeParse(section);
  if (!result.success) {
    const issue = result.error?.issues[0];
    throw new HubError(
      'CONFIG_INVALID',
      `${short}.${issue?.path.map(String).join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      {
        where: { field: `${short}.${issue?.path.map(String).join('.') ?? ''}` },
      },
    );
  }
  return result.data as Record<string, unknown>;
}

export interface RunConnectorsOptions {
  configFile?: string;
  /** One sync of every source stream, then exit (sinks do not start). */
  once?: boolean;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Use this hub context instead of building one from the environment (tests). */
  hub?: HubContext;
  /** Control topic for pause/resume (tests isolate themselves). */
  controlTopic?: string;
  logger?: Logger;
  onStarted?(connectors: RunningConnector[]): void;
}

/** Runs connectors until `signal` aborts (or once); follows pause/resume from the control topic. */
export async function runConnectors(names: string[], options: RunConnectorsOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const declarations = names.map(findConnector);
  const file = await readConnectorsConfig(options.configFile);
  const configs = declarations.map((d) => {
    const c = connectorConfig(d, file);
    return options.once ? { ...c, sink: false } : c;
  });
  const logger = options.logger ?? createLogger('connectors');
  const hub = options.hub ?? (await createHubContext({ env, logger }));
  const running: RunningConnector[] = [];
  const control = createConnectorControl({
    kafka: hub.kafka,
    producer: hub.producer,
    logger,
    ...(options.controlTopic ? { topic: options.controlTopic } : {}),
  });
  const create = (i: number) => declarations[i]!.create(configs[i]!, { logger, hub }) as RunningConnector;
  // Last operator command per connector, applied to every instance (also one re-created on start).
  const wanted = new Map<string, ControlCommand>();
  const apply = (i: number) => {
    const command = wanted.get(declarations[i]!.name);
    if (command === 'pause') running[i]?.pause();
    else if (command === 'resume') running[i]?.resume();
  };
  try {
    if (options.once) {
      for (const i of declarations.keys()) {
        running[i] = create(i);
        await running[i]!.offsets.start();
        await running[i]!.source?.syncOnce(options.signal);
      }
      return;
    }
    await control.follow((record) => {
      const i = declarations.findIndex((d) => d.name === record.connector);
      if (i < 0) return;
      logger.info(
        { connector: record.connector, command: record.command, actor: record.actor },
        'operator command',
      );
      wanted.set(record.connector, record.command);
      apply(i);
    });
    for (const i of declarations.keys()) {
      running[i] = await startWithBackoff(() => create(i), declarations[i]!.name, logger, options.signal);
      apply(i);
    }
    if (options.signal?.aborted) return;
    options.onStarted?.(running);
    await new Promise<void>((resolve) => {
      if (options.signal?.aborted) return resolve();
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await Promise.allSettled(running.map((c) => c.close()));
    await control.close();
    if (!options.hub) await hub.close();
  }
}

/**
 * Starts a connector, retrying with exponential backoff while the start fails for a retriable
 * reason (Kafka still booting, a topic being created), so `connectors run` outlives a slow cluster.
 * Each try builds a fresh instance: a half-started one keeps its failed parts.
 */
async function startWithBackoff(
  create: () => RunningConnector,
  name: string,
  logger: Logger,
  signal?: AbortSignal,
): Promise<RunningConnector> {
  for (let attempt = 1; ; attempt++) {
    const c = create();
    try {
      await c.start();
      return c;
    } catch (err) {
      await c.close().catch(() => undefined);
      const retriable = err instanceof HubError && err.retriable;
      if (!retriable || signal?.aborted) throw err;
      const delayMs = Math.min(30_000, 500 * 2 ** (attempt - 1));
      logger.warn({ connector: name, attempt, delayMs, err }, 'connector did not start; retrying');
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

/** Parses `--to`: `earliest`, an ISO time, or a cursor as JSON. */
export function parseResetTarget(to: string): { stamp: string; key: string } | null {
  if (to === 'earliest') return null;
  if (to.startsWith('{')) {
    const c = JSON.parse(to) as { stamp?: unknown; key?: unknown };
    if (typeof c.stamp !== 'string') throw new UsageError('a cursor needs a "stamp" string');
    return { stamp: c.stamp, key: typeof c.key === 'string' ? c.key : '' };
  }
  const ms = Date.parse(to);
  if (Number.isNaN(ms))
    throw new UsageError(
      `--to ${to} is neither earliest, an ISO time nor a cursor`,
      'e.g. --to 2026-01-01T00:00:00Z',
    );
  // An empty key sorts before every key: records stamped exactly at `to` are read again.
  return { stamp: new Date(ms).toISOString(), key: '' };
}
