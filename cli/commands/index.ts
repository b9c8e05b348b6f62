import type { Command } from 'commander';
import { registerAuditCommands } from './audit.ts';
import { registerConnectorsCommands } from './connectors.ts';
import { registerDlqCommands } from './dlq.ts';
import { registerIngressCommands } from './ingress.ts';
import { registerKafkaCommands } from './kafka.ts';
import { registerMcpCommands } from './mcp.ts';
import { registerProcessorsCommands } from './processors.ts';
import { registerReplayCommands } from './replay.ts';
import { registerSchemasCommands } from './schemas.ts';
import { registerStatusCommands } from './status.ts';
import { registerTopologyCommands } from './topology.ts';
import { registerUpCommands } from './up.ts';

/** Every subcommand group of the CLI; each file in this folder registers one group. */
export type RegisterCommands = (program: Command) => void;

export const commandGroups: RegisterCommands[] = [
  (program) => registerUpCommands(program),
  (program) => registerStatusCommands(program),
  (program) => registerKafkaCommands(program),
  (program) => registerSchemasCommands(program),
  (program) => registerTopologyCommands(program),
  (program) => registerConnectorsCommands(program),
  (program) => registerProcessorsCommands(program),
  (program) => registerAuditCommands(program),
  (program) => registerMcpCommands(program),
  (program) => registerIngressCommands(program),
  (program) => registerReplayCommands(program),
  (program) => registerDlqCommands(program),
];
