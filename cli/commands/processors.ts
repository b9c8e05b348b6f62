import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { HubError, UsageError } from '../../core/errors.ts';
import { serveStandalone, standaloneHttp } from '../../hub/standalone.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { type ProcessorName, processorDeclarations } from '../../processors/index.ts';

/** What tests may swap; the CLI itself uses the process environment and stdout. */
export interface ProcessorsCommandOptions {
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  /** Resolves when `processors run` should stop; SIGINT/SIGTERM by default. */
  stopSignal?: () => Promise<void>;
}

const names = Object.keys(processorDeclarations) as ProcessorName[];

async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new HubError('CONFIG_UNREADABLE', `cannot read config file ${path}`, {
      cause: err,
      where: { file: path },
    });
  }
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    throw new HubError(
      'CONFIG_INVALID',
      `config file ${path} is not YAML or JSON: ${(err as Error).message}`,
      {
        cause: err,
        where: { file: path },
      },
    );
  }
}

/** Registers `tributary processors list | run <image|audio|speech|chart>`. */
export function registerProcessorsCommands(program: Command, options: ProcessorsCommandOptions = {}): void {
  const env = options.env ?? process.env;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const group = program
    .command('processors')
    .description('Media processors: image analysis, transcription, speech and podcasts, charts');

  group
    .command('list')
    .description('List the processors with their commands and topics')
    .action(() => {
      for (const name of names) {
        const d = processorDeclarations[name];
        write(`${name}  (${d.name})  ${d.description}\n`);
        for (const c of d.commands ?? []) write(`  ${c.name}: ${c.topic} -> ${c.resultTopic}\n`);
      }
    });

  group
    .command('run')
    .description('Run one processor until Ctrl-C: consume its request topics and emit results')
    .argument('<name>', `processor to run: ${names.join(' | ')}`)
    .option('--config <file>', 'YAML or JSON config (see the declaration for fields and defaults)')
    .option('--provider <provider>', 'default provider: offline | openai (image, audio, speech)')
    .option('--concurrency <n>', 'jobs running at the same time', (v) => Number.parseInt(v, 10))
    .option(
      '--metrics-port <port>',
      'health/readiness/metrics port (TRIBUTARY_METRICS_PORT; default 0, a free one)',
    )
    .action(
      async (
        name: string,
        opts: { config?: string; provider?: string; concurrency?: number; metricsPort?: string },
      ) => {
        if (!names.includes(name as ProcessorName)) {
          throw new UsageError(`unknown processor "${name}"`, `choose one of ${names.join(', ')}`);
        }
        const declaration = processorDeclarations[name as ProcessorName];
        const raw = (opts.config ? await readConfigFile(opts.config) : {}) as Record<string, unknown>;
        if (opts.provider) raw.provider = opts.provider;
        if (opts.concurrency !== undefined) {
          if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
            throw new UsageError('--concurrency must be a positive integer');
          }
          raw.runner = { ...(raw.runner as object | undefined), maxConcurrent: opts.concurrency };
        }
        const parsed = declaration.config.safeParse(raw);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new UsageError(
            `invalid ${name} processor config at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
            'see `tributary processors list` and the declaration for the fields',
          );
        }
        await serveStandalone({
          name: declaration.name,
          env,
          declarations: [declaration as unknown as ComponentDeclaration],
          sections: { [declaration.name]: raw },
          http: standaloneHttp(env, opts.metricsPort),
          say: (line) => void process.stderr.write(`tributary: ${line}\n`),
          ...(options.stopSignal ? { until: options.stopSignal } : {}),
          onReady: () => write(`${declaration.name} running; Ctrl-C stops it\n`),
        });
      },
    );
}
