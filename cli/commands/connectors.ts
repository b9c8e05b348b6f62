import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import {
  type ControlCommand,
  connectorDeclarations,
  createConnectorControl,
  createSourceOffsetStore,
  type RunningConnector,
} from '../../connectors/index.ts';
import { HubError, UsageError } from '../../core/errors.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { createHubContext, type HubContext } from '../../platform/index.ts';

/** What tests may swap; the CLI uses the real environment and stdout. */
export interface ConnectorsCommandOptions {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
}

type AnyDeclaration = ComponentDeclaration<Record<string, unknown>>;
const all = connectorDeclarations as unknown as readonly AnyDeclaration[];

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
  const create = (i: number) =>
    declarations[i]!.create(configs[i]!, { logger, kafka: hub }) as RunningConnector;
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

/** Registers `tributary connectors list | run | status | pause | resume | offsets list | offsets reset`. */
export function registerConnectorsCommands(program: Command, options: ConnectorsCommandOptions = {}): void {
  const env = options.env ?? process.env;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const group = program
    .command('connectors')
    .description('ERP, CRM and HR connectors: list, run, status, pause, resume, source offsets');

  const withHub = async <T>(fn: (hub: HubContext) => Promise<T>): Promise<T> => {
    const hub = await createHubContext({ env });
    try {
      return await fn(hub);
    } finally {
      await hub.close();
    }
  };

  group
    .command('list')
    .description('Every connector with its topics and commands')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const rows = all.map((d) => ({
        name: d.name,
        description: d.description,
        produces: d.produces,
        consumes: d.consumes,
        commands: (d.commands ?? []).map((c) => c.name),
      }));
      if (opts.json) return write(`${JSON.stringify(rows, null, 2)}\n`);
      for (const r of rows) {
        write(
          `${r.name}\n  ${r.description}\n  produces: ${r.produces.join(', ')}\n  consumes: ${r.consumes.join(', ')}\n  commands: ${r.commands.join(', ') || '-'}\n`,
        );
      }
    });

  group
    .command('run')
    .description(
      'Run connectors in this process until SIGINT/SIGTERM (KAFKA_BROKERS, secrets from env or files)',
    )
    .argument('<name...>', 'connectors to run: erp, crm, hr')
    .option('-c, --config <file>', 'YAML or JSON file with one section per connector')
    .option('--once', 'sync every source stream once, then exit')
    .action(async (names: string[], opts: { config?: string; once?: boolean }) => {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await runConnectors(names, {
          env,
          signal: stop.signal,
          ...(opts.config ? { configFile: opts.config } : {}),
          ...(opts.once ? { once: true } : {}),
          onStarted: (cs) =>
            write(`running: ${cs.map((c) => String(c.status().name)).join(', ')} (Ctrl-C stops)\n`),
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  group
    .command('status')
    .description('Source offsets per stream and whether each sink group has live members')
    .option('-c, --config <file>', 'connectors config (offsets topic, group ids)')
    .action(async (opts: { config?: string }) => {
      const file = await readConnectorsConfig(opts.config);
      await withHub(async (hub) => {
        const admin = hub.kafka.admin();
        await admin.connect();
        try {
          for (const d of all) {
            const config = connectorConfig(d, file);
            const groupId = String(config.groupId ?? d.name);
            const described = await admin.describeGroups([groupId]);
            const g = described.groups[0];
            const state = g
              ? `${g.state} (${g.members.length} member${g.members.length === 1 ? '' : 's'})`
              : 'unknown';
            write(`${d.name}: sink group ${groupId} ${state}\n`);
            const offsets = createSourceOffsetStore({
              kafka: hub.kafka,
              producer: hub.producer,
              topic: String(config.offsetsTopic),
            });
            await offsets.start();
            for (const o of offsets.list(`${d.name}/`)) {
              write(
                `  ${o.key.split('/')[1]}: ${o.cursor ? `after ${o.cursor.stamp} ${o.cursor.key}` : 'from the beginning'} (committed ${new Date(o.committedAt).toISOString()})\n`,
              );
            }
            await offsets.close();
          }
        } finally {
          await admin.disconnect();
        }
      });
    });

  for (const command of ['pause', 'resume'] as const) {
    group
      .command(command)
      .description(
        command === 'pause'
          ? 'Pause running connectors (sources stop polling, sinks stop consuming)'
          : 'Resume paused connectors',
      )
      .argument('<name...>', 'connectors: erp, crm, hr')
      .option('--actor <who>', 'who asks (goes to the log)', env.USER ?? 'operator')
      .action(async (names: string[], opts: { actor: string }) => {
        const targets = names.map(findConnector);
        await withHub(async (hub) => {
          const control = createConnectorControl({ kafka: hub.kafka, producer: hub.producer });
          for (const d of targets) {
            await control.send(d.name, command, opts.actor);
            write(`${d.name}: ${command} sent\n`);
          }
        });
      });
  }

  const offsets = group
    .command('offsets')
    .description('Source offsets kept in the compacted topic _tributary.source-offsets');
  offsets
    .command('list')
    .description('Every stream cursor')
    .option('-c, --config <file>', 'connectors config (offsets topic)')
    .action(async (opts: { config?: string }) => {
      const file = await readConnectorsConfig(opts.config);
      const topic = String(connectorConfig(findConnector('erp'), file).offsetsTopic);
      await withHub(async (hub) => {
        const store = createSourceOffsetStore({ kafka: hub.kafka, producer: hub.producer, topic });
        await store.start();
        for (const o of store.list())
          write(
            `${o.key}\t${o.cursor ? JSON.stringify(o.cursor) : 'earliest'}\t${new Date(o.committedAt).toISOString()}\n`,
          );
        await store.close();
      });
    });
  offsets
    .command('reset')
    .description('Move source cursors (only while the connector is stopped)')
    .argument('<name>', 'connector: erp, crm, hr')
    .requiredOption('--to <target>', 'earliest, an ISO time (re-read changes from then on) or a cursor JSON')
    .option('--stream <stream>', 'one stream only (default: all of the connector)')
    .option('-c, --config <file>', 'connectors config (offsets topic, group id)')
    .action(async (name: string, opts: { to: string; stream?: string; config?: string }) => {
      const d = findConnector(name);
      const target = parseResetTarget(opts.to);
      const config = connectorConfig(d, await readConnectorsConfig(opts.config));
      await withHub(async (hub) => {
        const admin = hub.kafka.admin();
        await admin.connect();
        try {
          const groupId = String(config.groupId ?? d.name);
          const g = (await admin.describeGroups([groupId])).groups[0];
          if (g && g.members.length > 0) {
            throw new HubError(
              'CONNECTOR_RUNNING',
              `${d.name} is running (${g.members.length} member(s) in ${groupId})`,
              {
                hint: `stop it first: the running process would overwrite the cursor`,
              },
            );
          }
        } finally {
          await admin.disconnect();
        }
        const store = createSourceOffsetStore({
          kafka: hub.kafka,
          producer: hub.producer,
          topic: String(config.offsetsTopic),
        });
        await store.start();
        const streams = opts.stream ? [opts.stream] : ((config.entities as string[] | undefined) ?? []);
        if (streams.length === 0) throw new UsageError('no stream to reset', 'pass --stream');
        for (const s of streams) {
          await store.commit(`${d.name}/${s}`, target);
          write(`${d.name}/${s} -> ${target ? JSON.stringify(target) : 'earliest'}\n`);
        }
        await store.close();
      });
    });
}
