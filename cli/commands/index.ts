import type { Command } from 'commander';

/** Every subcommand group of the CLI; each file in this folder registers one group. */
export type RegisterCommands = (program: Command) => void;

export const commandGroups: RegisterCommands[] = [];
