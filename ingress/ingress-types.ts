import { HubError } from '../core/errors.ts';
import type { ComponentDeclaration } from '../platform/declaration.ts';
import type { SchemaCatalog } from '../schemas/index.ts';

/**
 * The event types systems may push: every command a component declares (the declaration
 * contract: "each becomes an MCP tool and an HTTP ingress type"). A type is addressed by its
 * command name (`crm.contact.upsert`) or by its Avro full name (`tributary.crm.ContactUpsert`).
 */
export interface IngressType {
  /** Command name, the short alias and the permission suffix (`ingress:<name>`). */
  name: string;
  /** Avro full name of the event published. */
  schema: string;
  /** Topic it is published to (with the configured prefix). */
  topic: string;
  /** Component that accepts it. */
  component: string;
  title?: string;
  description: string;
  /** Data field whose value keys the record (entity ordering); see `subjectOf`. */
  keyField?: string;
}

/** Resolves the ingress types of `declarations`; throws INGRESS_TOPIC_UNDECLARED / INGRESS_SCHEMA_UNKNOWN. */
export function ingressTypesOf(
  declarations: readonly ComponentDeclaration<unknown>[],
  catalog: SchemaCatalog,
  topicPrefix = '',
): IngressType[] {
  const topics = new Map(declarations.flatMap((d) => d.topics.map((t) => [t.name, t] as const)));
  const seen = new Set<string>();
  const types: IngressType[] = [];
  for (const d of declarations) {
    for (const command of d.commands ?? []) {
      const topic = topics.get(command.topic);
      if (!topic) {
        throw new HubError(
          'INGRESS_TOPIC_UNDECLARED',
          `command ${command.name} of ${d.name} uses topic ${command.topic}, which no component declares`,
          { where: { topic: command.topic }, hint: `declare ${command.topic} in the topics of ${d.name}` },
        );
      }
      if (!catalog.has(topic.valueSchema)) {
        throw new HubError('INGRESS_SCHEMA_UNKNOWN', `schema ${topic.valueSchema} is not in the catalog`, {
          where: { subject: topic.valueSchema },
          hint: 'add the .avsc file under schemas/',
        });
      }
      if (seen.has(command.name)) continue;
      seen.add(command.name);
      const keyField = (command as { keyField?: unknown }).keyField;
      types.push({
        name: command.name,
        schema: topic.valueSchema,
        topic: topicPrefix + command.topic,
        component: d.name,
        ...(command.title ? { title: command.title } : {}),
        description: command.description,
        ...(typeof keyField === 'string' ? { keyField } : {}),
      });
    }
  }
  return types;
}

/** Finds a type by command name or Avro full name; undefined when neither matches. */
export function findIngressType(types: readonly IngressType[], name: string): IngressType | undefined {
  return types.find((t) => t.name === name) ?? types.find((t) => t.schema === name);
}

/**
 * Key of the published record: the declared key field, else the data's `externalId` (the
 * entity id of every upsert command), else the event id. A string or number value only.
 */
export function subjectOf(type: IngressType, data: Record<string, unknown>, eventId: string): string {
  for (const field of [type.keyField, 'externalId']) {
    const value = field ? data[field] : undefined;
    if (typeof value === 'string' && value.length > 0) return value;
    if (typeof value === 'number') return String(value);
  }
  return eventId;
}
