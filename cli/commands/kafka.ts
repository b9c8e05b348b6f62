import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { type KafkaStatus, kafkaDown, kafkaLogs, kafkaStatus, kafkaUp } from '../../kit/kafka/index.ts';

/** What tests may swap; the CLI itself uses the process environment, stdout and stderr. */
export interface KafkaCommandOptions {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  progress?: (text: string) => void;
}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${name} must be a positive integer, not "${value}"`);
  return n;
}

function formatStatus(status: KafkaStatus): string {
  if (status.nodes.length === 0) return `Kafka: stopped (never started in ${status.dataDir})\n`;
  const lines = [
    `Kafka ${status.version}: ${status.state} (${status.nodes.filter((n) => n.alive).length}/${status.nodes.length} nodes)`,
    `  brokers:   ${status.brokers.join(',')}`,
    `  data:      ${status.dataDir}`,
    ...status.nodes.map(
      (n) =>
        `  node ${n.id}: ${n.alive ? `running pid ${n.pid}${n.listening ? '' : ' (not accepting yet)'}` : 'stopped'}` +
        ` client ${n.port} controller ${n.controllerPort} log ${n.logFile}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** Registers `tributary kafka up | down | status | logs`: the local KRaft cluster. */
export function registerKafkaCommands(program: Command, options: KafkaCommandOptions = {}): void {
  const env = options.env ?? process.env;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const progress = options.progress ?? ((text: string) => void process.stderr.write(`tributary: ${text}\n`));

  const group = program
    .command('kafka')
    .description(
      'A local Apache Kafka (KRaft) from the official jars, run by Java >= 17; data in .tributary/kafka (TRIBUTARY_HOME)',
    );

  group
    .command('up')
    .description('Start the local cluster, or leave it as it is when it already runs')
    .option('--nodes <n>', 'number of combined broker+controller nodes: 1 or 3')
    .option('--port <base>', 'first port: brokers on base.., controllers after them (default 9092)')
    .action(async (opts: { nodes?: string; port?: string }) => {
      const nodes = positiveInt('--nodes', opts.nodes);
      if (nodes !== undefined && nodes !== 1 && nodes !== 3) throw new UsageError('--nodes must be 1 or 3');
      const basePort = positiveInt('--port', opts.port);
      if (basePort !== undefined && basePort + 6 > 65535) throw new UsageError('--port is too high');
      const { alreadyRunning, cluster } = await kafkaUp({
        env,
        onProgress: progress,
        ...(nodes ? { nodes } : {}),
        ...(basePort ? { basePort } : {}),
      });
      const brokers = cluster.brokers.join(',');
      write(
        `Kafka ${cluster.version} ${alreadyRunning ? 'already running' : 'running'} (${cluster.nodes.length} node${cluster.nodes.length > 1 ? 's' : ''}) at ${brokers}\n` +
          `  export KAFKA_BROKERS=${brokers}\n`,
      );
    });

  group
    .command('down')
    .description('Stop the local cluster (SIGTERM, then SIGKILL after the grace time)')
    .option('--purge', 'also delete its data folder')
    .option('--grace <seconds>', 'seconds to wait for a clean shutdown before SIGKILL', '30')
    .action(async (opts: { purge?: boolean; grace: string }) => {
      const graceMs = (positiveInt('--grace', opts.grace) ?? 30) * 1000;
      const result = await kafkaDown({ env, graceMs, ...(opts.purge ? { purge: true } : {}) });
      const stopped = result.nodes.filter((n) => n.result !== 'not-running');
      const killed = result.nodes.filter((n) => n.result === 'killed').map((n) => n.id);
      write(
        `${stopped.length > 0 ? `Kafka stopped (${stopped.length} node${stopped.length > 1 ? 's' : ''})` : 'Kafka was not running'}` +
          `${killed.length > 0 ? `; node ${killed.join(', ')} needed SIGKILL` : ''}${result.purged ? '; data deleted' : ''}\n`,
      );
    });

  group
    .command('status')
    .description('Say whether the local cluster runs and where it listens (exit code 0 either way)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const status = await kafkaStatus({ env });
      write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
    });

  group
    .command('logs')
    .description("Print the end of a node's broker log")
    .option('--node <id>', 'node id (1..3)', '1')
    .option('--lines <n>', 'how many lines from the end', '100')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .action(async (opts: { node: string; lines: string; follow?: boolean }) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      try {
        await kafkaLogs({
          env,
          write,
          node: positiveInt('--node', opts.node) ?? 1,
          lines: positiveInt('--lines', opts.lines) ?? 100,
          follow: opts.follow === true,
          signal: controller.signal,
        });
      } finally {
        process.off('SIGINT', stop);
      }
    });
}
