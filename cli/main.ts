import { Command, CommanderError } from 'commander';
import { ExitCode, HubError, UsageError } from '../core/errors.ts';
import { commandGroups } from './commands/index.ts';

/**
 * The `tributary` CLI. Each capability is one subcommand group registered from cli/commands/.
 * Exit codes: 0 ok, 1 failure, 2 usage.
 */
export function buildProgram(): Command {
  const program = new Command('tributary')
    .description('Tributary: an event-driven integration hub on Apache Kafka')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const register of commandGroups) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    ) {
      return ExitCode.ok;
    }
    return ExitCode.usage;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`tributary: ${err.describe()}\n`);
    return ExitCode.usage;
  }
  if (err instanceof HubError) {
    process.stderr.write(`tributary: ${err.describe()}\n`);
    return ExitCode.failure;
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`tributary: unexpected error: ${message}\n`);
  return ExitCode.failure;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`tributary: ${String(err)}\n`);
      process.exit(ExitCode.failure);
    },
  );
}
