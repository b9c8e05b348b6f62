import type { Command } from 'commander';
import { HubError, UsageError } from '../../core/errors.ts';
import { runHub } from '../../hub/run-hub.ts';
import { stallLimitFrom, startStallWatchdog } from '../../platform/stall-watchdog.ts';

/** What tests may swap; the CLI itself uses the process environment, stdout/stderr and signals. */
export interface UpCommandOptions {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  writeErr?: (text: string) => void;
}

const envHelp = `
Runs every declared component in this one process on the embedded defaults, or those of
--only. Each component's config comes from --config (YAML/JSON: components.<name>.<key>) and
the environment (see hub/config.ts):
  KAFKA_BROKERS               a cluster to use (default: the local kit, started or reused)
  REDIS_URL                   Redis of the MCP bridge (default: a local redis-server)
  TRIBUTARY_CONFIG            config file when --config is not given
  TRIBUTARY_HOME              where the embedded defaults keep files (default .tributary)
  TRIBUTARY_HTTP_PORT         health/readiness/metrics port (default 9464; 0 picks one)
  TRIBUTARY_DEMO=false        do not start the demo ERP/CRM/HR systems
  TRIBUTARY__<COMPONENT>__<KEY>=value   one config key, e.g. TRIBUTARY__AUDIT__FSYNC=false
SIGTERM or Ctrl-C stops it gracefully (components close in reverse order within
shutdownTimeoutMs); a second signal exits at once.`;

/** Registers `tributary up`. */
export function registerUpCommands(program: Command, options: UpCommandOptions = {}): void {
  const env = options.env ?? process.env;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const writeErr = options.writeErr ?? ((text: string) => void process.stderr.write(text));
  program
    .command('up')
    .description('Run the hub: every component in one process, with health, metrics and a heartbeat')
    .option('--config <file>', 'YAML or JSON config (else TRIBUTARY_CONFIG)')
    .option('--only <names>', 'comma-separated component names to run (e.g. audit,processor.chart)')
    .option('--no-demo', 'do not start the demo ERP, CRM and HR systems')
    .addHelpText('after', envHelp)
    .action(async (opts: { config?: string; only?: string; demo: boolean }) => {
      const only = opts.only
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (opts.only !== undefined && (!only || only.length === 0)) {
        throw new UsageError('--only needs at least one component name');
      }
      const say = (line: string) => writeErr(`tributary: ${line}\n`);
      // Signals during start-up abort it; the hub stops what it started.
      let signalled: NodeJS.Signals | undefined;
      const early = (signal: NodeJS.Signals) => {
        signalled = signal;
      };
      process.on('SIGINT', early);
      process.on('SIGTERM', early);
      // A starved event loop (a kafkajs fetch loop that never yields) ends the process for a restart.
      const watchdog = startStallWatchdog({ stallMs: stallLimitFrom(env), name: 'tributary up' });
      let hub: Awaited<ReturnType<typeof runHub>>;
      try {
        hub = await runHub({
          env,
          ...(only ? { only } : {}),
          ...(opts.config ? { config: opts.config } : {}),
          ...(opts.demo === false ? { demo: false } : {}),
          // Test isolation on a shared broker: every topic the hub creates gets this prefix.
          ...(env.TRIBUTARY_TOPIC_PREFIX ? { topicPrefix: env.TRIBUTARY_TOPIC_PREFIX } : {}),
          onProgress: say,
        });
      } finally {
        process.off('SIGINT', early);
        process.off('SIGTERM', early);
      }
      if (!signalled) {
        write(`${hub.describe().join('\n')}\n`);
        signalled = await new Promise<NodeJS.Signals>((done) => {
          process.once('SIGINT', () => done('SIGINT'));
          process.once('SIGTERM', () => done('SIGTERM'));
        });
      }
      // A second signal means "now": skip the rest of the graceful path.
      const force = (signal: NodeJS.Signals) => {
        say(`${signal} again: exiting without finishing the shutdown`);
        process.exit(1);
      };
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      const { timedOut } = await hub.close(signalled);
      await watchdog.stop();
      if (timedOut) {
        throw new HubError(
          'HUB_SHUTDOWN_TIMEOUT',
          `shutdown took longer than ${hub.config.shutdownTimeoutMs} ms`,
          {
            hint: 'some component did not close in time; its in-flight work is redelivered on the next start',
          },
        );
      }
      say('stopped cleanly');
    });
}
