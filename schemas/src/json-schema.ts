import { HubError } from '../../core/errors.ts';
import type { AvroSchemaJson, AvroSchemaObject } from './types.ts';

/**
 * Avro schema -> JSON Schema (draft 2020-12), for MCP tool schemas and the ingress OpenAPI document.
 * The JSON shape is the one the bridge speaks with agents, not Avro's JSON encoding:
 * - a union with null is an optional, nullable property (never the `{"string": ...}` wrapper);
 * - values look as the hub's serde holds them (schemas/src/logical-types.ts), so arguments go
 *   into a command event unchanged: timestamp-millis is an integer of milliseconds since the
 *   epoch, date an integer of days, uuid a uuid string, decimal a string of digits (exact
 *   money, no float rounding);
 * - records are closed objects (additionalProperties false), maps open ones;
 * - every `doc` becomes a `description`.
 */

export type JsonSchema = { [keyword: string]: unknown };

const primitiveJson: Record<string, JsonSchema> = {
  null: { type: 'null' },
  boolean: { type: 'boolean' },
  int: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
  long: { type: 'integer' },
  float: { type: 'number' },
  double: { type: 'number' },
  bytes: { type: 'string', description: 'Bytes as text (each character one byte).' },
  string: { type: 'string' },
};

interface Context {
  /** Named types seen so far (records, enums, fixed), by full name and by short name. */
  named: Map<string, AvroSchemaObject>;
  /** Full names being converted right now, to detect recursion. */
  stack: string[];
}

function fullName(node: AvroSchemaObject, namespace: string | undefined): string {
  const name = String(node.name);
  if (name.includes('.')) return name;
  const ns = typeof node.namespace === 'string' ? node.namespace : namespace;
  return ns ? `${ns}.${name}` : name;
}

function namespaceOf(full: string): string | undefined {
  const at = full.lastIndexOf('.');
  return at > 0 ? full.slice(0, at) : undefined;
}

function logical(node: AvroSchemaObject): JsonSchema | undefined {
  switch (node.logicalType) {
    case 'timestamp-millis':
      return { type: 'integer', description: 'Milliseconds since 1970-01-01T00:00:00Z.' };
    case 'timestamp-micros':
      return { type: 'integer', description: 'Microseconds since 1970-01-01T00:00:00Z.' };
    case 'date':
      return { type: 'integer', description: 'Days since 1970-01-01.' };
    case 'uuid':
      return { type: 'string', format: 'uuid' };
    case 'decimal': {
      const scale = typeof node.scale === 'number' ? node.scale : 0;
      const precision = typeof node.precision === 'number' ? node.precision : undefined;
      const fraction = scale > 0 ? `(\\.\\d{1,${scale}})?` : '';
      return {
        type: 'string',
        pattern: `^-?\\d+${fraction}$`,
        description: `Decimal number as text${precision ? `, up to ${precision} digits` : ''}, ${scale} after the point.`,
      };
    }
    default:
      return undefined;
  }
}

function withDoc(schema: JsonSchema, doc: unknown): JsonSchema {
  if (typeof doc !== 'string' || doc.length === 0) return schema;
  // Keep what the type itself says (units, format) after the field's own doc.
  const own =
    typeof schema.description === 'string' && schema.anyOf === undefined ? ` ${schema.description}` : '';
  return { ...schema, description: `${doc}${own}` };
}

/** True when a union branch list contains "null". */
function isNullBranch(branch: AvroSchemaJson): boolean {
  return (
    branch === 'null' || (typeof branch === 'object' && !Array.isArray(branch) && branch.type === 'null')
  );
}

/** Makes a schema accept null too, merging into `type` for simple schemas. */
function nullable(schema: JsonSchema): JsonSchema {
  if (typeof schema.type === 'string' && schema.enum === undefined && schema.properties === undefined) {
    return { ...schema, type: [schema.type, 'null'] };
  }
  return { anyOf: [schema, { type: 'null' }] };
}

function convert(node: AvroSchemaJson, namespace: string | undefined, ctx: Context): JsonSchema {
  if (typeof node === 'string') {
    const primitive = primitiveJson[node];
    if (primitive) return { ...primitive };
    const full = node.includes('.') || !namespace ? node : `${namespace}.${node}`;
    const definition = ctx.named.get(full) ?? ctx.named.get(node);
    if (!definition) {
      throw new HubError(
        'AVRO_JSON_SCHEMA_UNKNOWN_TYPE',
        `Avro type ${node} is referenced before it is defined`,
        {
          where: { field: node },
          hint: 'pass a self-contained schema (the catalog inlines tributary.common types)',
        },
      );
    }
    return convertNamed(definition, fullName(definition, namespace), ctx);
  }
  if (Array.isArray(node)) {
    const branches = node.filter((b) => !isNullBranch(b)).map((b) => convert(b, namespace, ctx));
    const hasNull = branches.length < node.length;
    const first = branches[0];
    const joined: JsonSchema = branches.length === 1 && first ? first : { anyOf: branches };
    return hasNull ? nullable(joined) : joined;
  }
  const logicalSchema = logical(node);
  if (logicalSchema) return logicalSchema;
  switch (node.type) {
    case 'record':
    case 'error':
    case 'enum':
    case 'fixed': {
      const full = fullName(node, namespace);
      ctx.named.set(full, node);
      ctx.named.set(String(node.name), node);
      return convertNamed(node, full, ctx);
    }
    case 'array':
      return { type: 'array', items: convert(node.items as AvroSchemaJson, namespace, ctx) };
    case 'map':
      return { type: 'object', additionalProperties: convert(node.values as AvroSchemaJson, namespace, ctx) };
    default:
      // A primitive written as an object ({"type": "string"}), or a nested type.
      return convert(node.type, namespace, ctx);
  }
}

function convertNamed(node: AvroSchemaObject, full: string, ctx: Context): JsonSchema {
  if (ctx.stack.includes(full)) {
    throw new HubError('AVRO_JSON_SCHEMA_RECURSIVE', `Avro type ${full} refers to itself`, {
      where: { field: full },
      hint: 'tool schemas must be finite; flatten the recursive record',
    });
  }
  if (node.type === 'enum') {
    return withDoc({ type: 'string', enum: [...(node.symbols as string[])] }, node.doc);
  }
  if (node.type === 'fixed') {
    return withDoc(
      { type: 'string', contentEncoding: 'base64', description: `${node.size} bytes` },
      node.doc,
    );
  }
  ctx.stack.push(full);
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const inner = namespaceOf(full);
  for (const field of (node.fields ?? []) as AvroSchemaObject[]) {
    const name = String(field.name);
    let schema = withDoc(convert(field.type, inner, ctx), field.doc);
    const optional = Array.isArray(field.type) && field.type.some(isNullBranch);
    if (field.default !== undefined && field.default !== null) schema = { ...schema, default: field.default };
    properties[name] = schema;
    if (!optional && field.default === undefined) required.push(name);
  }
  ctx.stack.pop();
  const record: JsonSchema = { type: 'object', properties, additionalProperties: false };
  if (required.length > 0) record.required = required;
  return withDoc(record, node.doc);
}

/** Converts a self-contained Avro schema to JSON Schema. Throws HubError on unknown or recursive types. */
export function avroToJsonSchema(schema: AvroSchemaJson): JsonSchema {
  return convert(schema, undefined, { named: new Map(), stack: [] });
}

/**
 * The JSON Schema of one field of an event record (e.g. `data`), with named types defined
 * earlier in the event (e.g. inside `envelope`) still resolvable.
 */
export function avroFieldToJsonSchema(eventSchema: AvroSchemaObject, fieldName: string): JsonSchema {
  const ctx: Context = { named: new Map(), stack: [] };
  const eventName = fullName(eventSchema, undefined);
  const ns = namespaceOf(eventName);
  const fields = (eventSchema.fields ?? []) as AvroSchemaObject[];
  for (const field of fields) {
    const converted = convert(field.type, ns, ctx);
    if (field.name === fieldName) return withDoc(converted, field.doc);
  }
  throw new HubError('AVRO_JSON_SCHEMA_NO_FIELD', `${eventName} has no field ${fieldName}`, {
    where: { field: fieldName },
  });
}
