import type { Command } from 'commander';
import {
  connectorConfig,
  connectorDeclarations,
  createConnectorControl,
  createSourceOffsetStore,
  findConnector,
  parseResetTarget,
  type RunningConnector,
  readConnectorsConfig,
  runConnectors,
} from '../../connectors/index.ts';
import { HubError, UsageError } from '../../core/errors.ts';
import { type HostContext, serveStandalone, standaloneHttp } from '../../hub/standalone.ts';
import { type ComponentState, type HostedComponent, hostedComponent } from '../../hub/supervisor.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { createHubContext, type HubContext } from '../../platform/index.ts';

/** What tests may swap; the CLI uses the real environment and stdout. */
export interface ConnectorsCommandOptions {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
}

type AnyDeclaration = ComponentDeclaration<Record<string, unknown>>;
const all = connectorDeclarations as unknown as readonly AnyDeclaration[];

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
    .option(
      '--metrics-port <port>',
      'health/readiness/metrics port (TRIBUTARY_METRICS_PORT; default 0, a free one)',
    )
    .action(async (names: string[], opts: { config?: string; once?: boolean; metricsPort?: string }) => {
      const configFile = opts.config ? { configFile: opts.config } : {};
      if (opts.once) {
        await runConnectors(names, { env, once: true, ...configFile });
        return;
      }
      names.forEach(findConnector); // an unknown name is a usage error before anything starts
      await serveStandalone({
        name: 'connectors',
        env,
        http: standaloneHttp(env, opts.metricsPort),
        say: (line) => void process.stderr.write(`tributary: ${line}\n`),
        host: (context) => hostConnectors(names, env, configFile, context),
        onReady: (p) => write(`running: ${p.components.map((c) => c.name).join(', ')} (Ctrl-C stops)\n`),
      });
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
      .option('--actor <who>', 'who asks (goes to the log and the audit)', env.USER ?? 'operator')
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

/**
 * Starts the connectors as `connectors run` always has (backoff while Kafka is not ready,
 * pause/resume from the control topic) inside a standalone process, one hosted component each.
 */
async function hostConnectors(
  names: string[],
  env: NodeJS.ProcessEnv,
  configFile: { configFile?: string },
  context: HostContext,
): Promise<HostedComponent[]> {
  const stop = new AbortController();
  let state: ComponentState = 'starting';
  let started!: (connectors: RunningConnector[]) => void;
  const ready = new Promise<RunningConnector[]>((done) => {
    started = done;
  });
  const run = runConnectors(names, {
    env,
    hub: context.hub,
    logger: context.loggerFor('connectors'),
    signal: stop.signal,
    ...configFile,
    onStarted: (connectors) => started(connectors),
  });
  context.cleanups.push({
    what: 'connectors',
    async run() {
      state = 'stopping';
      stop.abort();
      try {
        await run;
        state = 'stopped';
      } catch (err) {
        state = 'failed';
        throw err;
      }
    },
  });
  const connectors = await Promise.race([
    ready,
    run.then(() => {
      throw new HubError('HUB_COMPONENT_FAILED', 'the connectors stopped before they started');
    }),
  ]);
  state = 'running';
  return connectors.map((c) =>
    hostedComponent({ name: String(c.status().name), state: () => state, component: () => c }),
  );
}
