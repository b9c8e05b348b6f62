/**
 * Runs only the `schemas` command group the way cli/main.ts runs the CLI (same exit codes), so the
 * tests don't depend on which other groups are wired in. Usage: node schemas-cli.ts schemas check ...
 */
import { Command, CommanderError } from 'commander';
import { registerSchemasCommands } from '../../../cli/commands/schemas.ts';
import { HubError, UsageError } from '../../../core/errors.ts';

const program = new Command('tributary').exitOverride();
registerSchemasCommands(program);
try {
  await program.parseAsync(process.argv.slice(2), { from: 'user' });
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else if (err instanceof UsageError) {
    process.stderr.write(`tributary: ${err.describe()}\n`);
    process.exitCode = 2;
  } else if (err instanceof HubError) {
    process.stderr.write(`tributary: ${err.describe()}\n`);
    process.exitCode = 1;
  } else throw err;
}
