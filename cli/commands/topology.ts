import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { HubError, UsageError } from '../../core/errors.ts';
import { createHubAdmin, type HubAdmin } from '../../platform/admin.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { createKafka, kafkaSettingsFromEnv } from '../../platform/kafka.ts';
import { applyTopology, planTopology, readActualTopics } from '../../topology/apply.ts';
import type { Topology } from '../../topology/build.ts';
import { describeTopology, formatColumns, formatTopicTable } from '../../topology/describe.ts';
import { renderTopologyPng, renderTopologySvg, topologyToMermaid } from '../../topology/graph.ts';
import { buildHubTopology, catalogSchemaCheck } from '../../topology/hub-topology.ts';

/** What tests may swap; the CLI itself always uses the hub's declarations and the real stdout. */
export interface TopologyCommandOptions {
  declarations?: readonly ComponentDeclaration[];
  /** Topic name prefix; default TRIBUTARY_TOPIC_PREFIX, as `tributary up` uses it. */
  prefix?: string;
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  schemaExists?: (fullName: string) => boolean;
}

const formats = ['mermaid', 'svg', 'png'] as const;
type GraphFormat = (typeof formats)[number];

/** Registers `tributary topology apply | graph | describe | list`. */
export function registerTopologyCommands(program: Command, options: TopologyCommandOptions = {}): void {
  const env = options.env ?? process.env;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const prefix = options.prefix ?? env.TRIBUTARY_TOPIC_PREFIX;
  /** Builds the topology, checking every value schema against the catalog (or the given check). */
  const topologyFor = async (brokerCount?: number): Promise<Topology> =>
    buildHubTopology({
      env,
      ...(brokerCount !== undefined ? { brokerCount } : {}),
      ...(options.declarations ? { declarations: options.declarations } : {}),
      ...(prefix ? { prefix } : {}),
      schemaExists: options.schemaExists ?? (await catalogSchemaCheck()),
    });

  async function withAdmin<T>(fn: (admin: HubAdmin) => Promise<T>): Promise<T> {
    const admin = createHubAdmin(createKafka(kafkaSettingsFromEnv(env)));
    try {
      await admin.start();
      return await fn(admin);
    } finally {
      await admin.close();
    }
  }

  const group = program
    .command('topology')
    .description(
      "The hub's topics, derived from every component's declaration: apply, graph, describe, list",
    );

  group
    .command('apply')
    .description(
      'Create missing topics, alter changed configs and add partitions on the cluster (KAFKA_BROKERS)',
    )
    .option('--dry-run', 'print what would change and change nothing')
    .option(
      '--prune',
      'also delete topics in the hub namespaces that no declaration owns (never _tributary.*)',
    )
    .addHelpText(
      'after',
      '\nPrints one line per change, or "no changes". Exits 1 when a topic differs in a way apply\n' +
        'cannot fix (fewer partitions than it has, another replication factor). Replication is\n' +
        'min(3, brokers) unless TRIBUTARY_REPLICATION is set.',
    )
    .action(async (opts: { dryRun?: boolean; prune?: boolean }) => {
      await withAdmin(async (admin) => {
        const { brokerCount } = await admin.cluster();
        const desired = await topologyFor(brokerCount);
        const tooMany = desired.topics.find((t) => t.replication > brokerCount);
        if (tooMany) {
          throw new HubError(
            'TOPOLOGY_REPLICATION',
            `replication ${tooMany.replication} needs ${tooMany.replication} brokers; the cluster has ${brokerCount}`,
            {
              where: { topic: tooMany.name },
              hint: 'lower TRIBUTARY_REPLICATION or start more brokers (tributary kafka up --nodes 3)',
            },
          );
        }
        const plan = planTopology(desired, await readActualTopics(desired, admin));
        const result = await applyTopology(plan, admin, {
          dryRun: opts.dryRun ?? false,
          prune: opts.prune ?? false,
          onChange: (line) => write(`${line}\n`),
        });
        if (!result.changed) write(`no changes (${desired.topics.length} topics up to date)\n`);
        if (result.drift.length > 0) {
          throw new HubError(
            'TOPOLOGY_DRIFT',
            `${result.drift.length} topic(s) differ from the declarations in ways apply cannot fix`,
            {
              where: { topic: result.drift[0]?.topic },
              hint: 'see the drift lines above; recreate the topics or change the declarations',
            },
          );
        }
      });
    });

  group
    .command('graph')
    .description('Draw connectors -> topics -> processors -> audit and bridge (no broker needed)')
    .option('--format <format>', 'mermaid, svg or png', 'mermaid')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--no-derived', 'leave out the .dlq and .retry topics')
    .action(async (opts: { format: string; out?: string; derived: boolean }) => {
      if (!(formats as readonly string[]).includes(opts.format)) {
        throw new UsageError(`unknown graph format "${opts.format}"`, `use one of: ${formats.join(', ')}`);
      }
      const format = opts.format as GraphFormat;
      if (format === 'png' && !opts.out) throw new UsageError('a PNG needs --out <file>');
      const topology = await topologyFor();
      const body =
        format === 'mermaid'
          ? topologyToMermaid(topology, { includeDerived: opts.derived })
          : format === 'svg'
            ? await renderTopologySvg(topology, { includeDerived: opts.derived })
            : await renderTopologyPng(topology, { includeDerived: opts.derived });
      if (opts.out) {
        await writeFile(opts.out, body);
        write(
          `wrote ${opts.out} (${format}, ${topology.components.length} components, ${topology.topics.length} topics)\n`,
        );
      } else {
        write(String(body));
      }
    });

  group
    .command('describe')
    .description('Topics with partitions, live end offsets and consumer-group lag (KAFKA_BROKERS)')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }) => {
      await withAdmin(async (admin) => {
        const { brokerCount } = await admin.cluster();
        const rows = await describeTopology(await topologyFor(brokerCount), admin);
        write(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTopicTable(rows));
      });
    });

  group
    .command('list')
    .description('The declared topics and their settings (no broker needed)')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }) => {
      const topology = await topologyFor();
      if (opts.json) {
        write(`${JSON.stringify(topology.topics, null, 2)}\n`);
        return;
      }
      const table = [
        ['TOPIC', 'PARTITIONS', 'CLEANUP', 'RETENTION MS', 'VALUE SCHEMA', 'PRODUCERS', 'CONSUMERS'],
      ];
      for (const t of topology.topics) {
        table.push([
          t.name,
          String(t.partitions),
          t.cleanupPolicy,
          String(t.retentionMs),
          t.valueSchema || '(not Avro)',
          t.producers.join(',') || '-',
          t.consumers.join(',') || '-',
        ]);
      }
      write(formatColumns(table));
    });
}
