import { HubError } from '../core/errors.ts';
import type { CommandDeclaration, ComponentDeclaration } from '../platform/declaration.ts';
import type { SchemaCatalog } from '../schemas/index.ts';
import { avroFieldToJsonSchema, type JsonSchema } from '../schemas/index.ts';
import type { BridgeTool, ToolCallContext, ToolOutcome } from './tools.ts';

/**
 * Every command a component declares becomes an MCP tool: its input schema is the JSON Schema
 * of the command event's `data` record, its output schema that of the result event's `data`.
 * Nothing about tools is written by hand: rename a field in the .avsc and the tool follows.
 */

/** A command with the Avro names of its command and result events, resolved from the declarations. */
export interface ResolvedCommand extends CommandDeclaration {
  /** Component that accepts the command, e.g. `connector.erp`. */
  component: string;
  commandSchema: string;
  resultSchema: string;
}

/** Runs a command end to end (publish, await the result); supplied by the reply router. */
export type CommandRunner = (
  command: ResolvedCommand,
  args: Record<string, unknown>,
  context: ToolCallContext,
) => Promise<ToolOutcome>;

/**
 * The declarations with every topic name prefixed, as components do with their `topicPrefix`
 * setting (tests isolate themselves this way; a hub may namespace its topics).
 */
export function withTopicPrefix(
  declarations: readonly ComponentDeclaration<unknown>[],
  prefix: string,
): ComponentDeclaration<unknown>[] {
  if (!prefix) return [...declarations];
  return declarations.map((d) => ({
    ...d,
    topics: d.topics.map((t) => ({ ...t, name: prefix + t.name })),
    produces: d.produces.map((t) => prefix + t),
    consumes: d.consumes.map((t) => prefix + t),
    ...(d.commands
      ? {
          commands: d.commands.map((c) => ({
            ...c,
            topic: prefix + c.topic,
            resultTopic: prefix + c.resultTopic,
          })),
        }
      : {}),
  }));
}

/** Finds each declared command's topics and their value schemas; throws TOOLS_TOPIC_UNDECLARED when missing. */
export function resolveCommands(declarations: readonly ComponentDeclaration<unknown>[]): ResolvedCommand[] {
  const topics = new Map(declarations.flatMap((d) => d.topics.map((t) => [t.name, t] as const)));
  const schemaOf = (component: string, command: string, topic: string) => {
    const declared = topics.get(topic);
    if (!declared) {
      throw new HubError(
        'TOOLS_TOPIC_UNDECLARED',
        `command ${command} of ${component} uses topic ${topic}, which no component declares`,
        {
          where: { topic },
          hint: `declare ${topic} in the topics of ${component}`,
        },
      );
    }
    return declared.valueSchema;
  };
  return declarations.flatMap((d) =>
    (d.commands ?? []).map((c) => ({
      ...c,
      component: d.name,
      commandSchema: schemaOf(d.name, c.name, c.topic),
      resultSchema: schemaOf(d.name, c.name, c.resultTopic),
    })),
  );
}

function dataSchema(catalog: SchemaCatalog, name: string, command: string): JsonSchema {
  if (!catalog.has(name)) {
    throw new HubError('TOOLS_SCHEMA_UNKNOWN', `schema ${name} of command ${command} is not in the catalog`, {
      where: { subject: name },
      hint: 'add the .avsc file under schemas/',
    });
  }
  const schema = avroFieldToJsonSchema(catalog.latest(name).schema, 'data');
  if (schema.type !== 'object') {
    throw new HubError('TOOLS_SCHEMA_SHAPE', `the data field of ${name} is not a record`, {
      where: { subject: name },
    });
  }
  return schema;
}

/** Builds one MCP tool per declared command; `run` forwards to `runCommand` (the Kafka round trip). */
export function toolsFromDeclarations(
  declarations: readonly ComponentDeclaration<unknown>[],
  catalog: SchemaCatalog,
  runCommand: CommandRunner,
): BridgeTool[] {
  const seen = new Set<string>();
  return resolveCommands(declarations).map((command) => {
    if (seen.has(command.name)) {
      throw new HubError('TOOLS_DUPLICATE', `two components declare the command ${command.name}`, {
        hint: 'command names must be unique across the hub',
      });
    }
    seen.add(command.name);
    return {
      name: command.name,
      ...(command.title ? { title: command.title } : {}),
      description: command.description,
      mutating: command.mutating,
      inputSchema: dataSchema(catalog, command.commandSchema, command.name),
      outputSchema: dataSchema(catalog, command.resultSchema, command.name),
      run: (args, context) => runCommand(command, args, context),
    };
  });
}
