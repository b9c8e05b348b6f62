import type { Command } from 'commander';
import { createLogger } from '../../core/logger.ts';
import { type ClusterStatus, readClusterStatus } from '../../hub/cluster-status.ts';
import { INSTANCES_TOPIC } from '../../hub/declaration.ts';
import { createHubAdmin } from '../../platform/admin.ts';
import { createHubContext } from '../../platform/index.ts';
import { formatColumns } from '../../topology/describe.ts';
import { buildHubTopology } from '../../topology/hub-topology.ts';

/** What tests may swap; the CLI itself uses the process environment and stdout. */
export interface StatusCommandOptions {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
}

const ago = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

/** The human table of `tributary status`. */
export function formatClusterStatus(status: ClusterStatus): string {
  const out: string[] = [];
  if (status.instances.length === 0) {
    out.push('no live hub instances (none heartbeats to the registry; start one with `tributary up`)\n');
  } else {
    const rows = [['INSTANCE', 'HOST', 'PID', 'VERSION', 'STATE', 'LAST BEAT', 'ROLES']];
    for (const i of status.instances) {
      rows.push([
        i.instanceId,
        i.host,
        String(i.pid),
        i.version,
        i.stale ? 'stale' : i.state,
        `${ago(i.ageMs)} ago`,
        i.roles.join(','),
      ]);
    }
    out.push(formatColumns(rows));
    const components = [['INSTANCE', 'COMPONENT', 'STATE', 'LAG', 'DEAD-LETTERED', 'BREAKERS']];
    for (const i of status.instances) {
      for (const c of i.components) {
        const breakers = Object.entries(c.breakers)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        components.push([
          i.instanceId,
          c.name,
          c.state,
          c.lag === null ? '-' : String(c.lag),
          c.deadLettered === null ? '-' : String(c.deadLettered),
          breakers || '-',
        ]);
      }
    }
    out.push('', formatColumns(components));
  }
  const dlq = status.deadLetters.filter((d) => d.records > 0);
  out.push(
    '',
    dlq.length === 0
      ? `dead letters: none (${status.deadLetters.length} DLQ topics empty)\n`
      : formatColumns([['DLQ TOPIC', 'RECORDS'], ...dlq.map((d) => [d.topic, String(d.records)])]),
  );
  if (status.groups.length > 0) {
    out.push(
      '',
      formatColumns([
        ['GROUP', 'LAG', 'PARTITIONS'],
        ...status.groups.map((g) => [g.groupId, String(g.lag), String(g.partitions)]),
      ]),
    );
  }
  return out.join('\n');
}

/** Registers `tributary status`. */
export function registerStatusCommands(program: Command, options: StatusCommandOptions = {}): void {
  const env = options.env ?? process.env;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  program
    .command('status')
    .description(
      'Live hub instances (roles, versions, lag, breakers), DLQ counts and consumer-group lag (KAFKA_BROKERS)',
    )
    .option('--json', 'print JSON instead of tables')
    .option('--all-groups', 'lag of every consumer group, not only those of live instances')
    .option('--stale', 'also list instances that missed three heartbeats')
    .option('--all-dlq', 'count every *.dlq topic on the cluster, not only the declared ones')
    .option('--topic <topic>', 'instance registry topic', INSTANCES_TOPIC)
    .action(
      async (opts: {
        json?: boolean;
        allGroups?: boolean;
        allDlq?: boolean;
        stale?: boolean;
        topic: string;
      }) => {
        const logger = createLogger('status', { level: env.TRIBUTARY_LOG_LEVEL ?? 'warn' });
        const hub = await createHubContext({ env, logger });
        const admin = createHubAdmin(hub.kafka);
        try {
          await admin.start();
          const status = await readClusterStatus({
            hub,
            admin,
            topic: opts.topic,
            ...(opts.allGroups ? { allGroups: true } : {}),
            ...(opts.stale ? { includeStale: true } : {}),
            ...(opts.allDlq
              ? {}
              : {
                  deadLetterTopics: buildHubTopology({ env })
                    .topics.map((t) => t.name)
                    .filter((n) => n.endsWith('.dlq')),
                }),
          });
          write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatClusterStatus(status));
        } finally {
          await admin.close();
          await hub.close();
        }
      },
    );
}
