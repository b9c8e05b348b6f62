import avro from 'avsc';
import { avscOptions } from './logical-types.ts';
import type { AvroSchemaJson, AvroSchemaObject } from './types.ts';

/** A problem found in one schema, located by field path (`data.amount`, `data.lines[].sku`). */
export interface SchemaProblem {
  path: string;
  /** Stable rule id: `invalid-default`, `invalid-schema`, `field-doc-missing`. */
  rule: string;
  message: string;
}

type Copyable = avro.Type & { _copy(value: unknown, opts: { coerce: number; wrap: number }): unknown };

/** Removes field and enum defaults so the bare structure parses even when a default is wrong. */
function stripDefaults(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripDefaults);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'default') out[key] = stripDefaults(value);
  }
  return out;
}

/** avsc's parse error, with what to do for the mistakes we expect. */
export function explainParseError(err: unknown): string {
  const message = (err as Error).message;
  if (!/undefined type name/.test(message)) return message;
  return `${message} (a named type used by several files belongs in schemas/common as tributary.common.<Name>; otherwise define it inline at its first use in this file)`;
}

function typeLabel(schema: unknown): string {
  return typeof schema === 'string' ? schema : JSON.stringify(schema);
}

/**
 * Checks a self-contained schema: it must parse, every default must be valid for its field's type
 * (a union's default for the union's FIRST branch, as the Avro spec says), enum defaults must be
 * symbols, and every field should carry a `doc`.
 */
export function findSchemaProblems(schema: AvroSchemaJson): { problems: SchemaProblem[]; type?: avro.Type } {
  const problems: SchemaProblem[] = [];
  // avsc checks defaults while parsing but doesn't say which field failed. Parse once as is (the
  // common case, and the Type the catalog keeps); only when that fails parse without defaults
  // to locate the bad ones.
  let full: avro.Type | undefined;
  let bare: avro.Type;
  try {
    full = avro.Type.forSchema(schema as avro.Schema, avscOptions());
    bare = full;
  } catch {
    try {
      bare = avro.Type.forSchema(stripDefaults(schema) as avro.Schema, avscOptions());
    } catch (err) {
      return { problems: [{ path: '', rule: 'invalid-schema', message: explainParseError(err) }] };
    }
  }
  const walk = (json: unknown, type: avro.Type, path: string): void => {
    if (typeof json !== 'object' || json === null) return;
    if (Array.isArray(json)) {
      const branches = (type as unknown as { types?: avro.Type[] }).types ?? [];
      json.forEach((branch, i) => {
        const branchType = branches[i];
        if (branchType) walk(branch, branchType, path);
      });
      return;
    }
    const obj = json as AvroSchemaObject;
    if (typeof obj.type === 'object') {
      walk(obj.type, type, path);
      return;
    }
    const underlying = type instanceof avro.types.LogicalType ? type.underlyingType : type;
    if (obj.type === 'record' || obj.type === 'error') {
      const fields = (obj.fields as AvroSchemaObject[] | undefined) ?? [];
      const typeFields = (underlying as avro.types.RecordType).fields;
      fields.forEach((field, i) => {
        const typeField = typeFields[i];
        if (!typeField) return;
        const fieldPath = path ? `${path}.${typeField.name}` : typeField.name;
        if (typeof field.doc !== 'string' || field.doc.trim() === '') {
          problems.push({
            path: fieldPath,
            rule: 'field-doc-missing',
            message: `field ${fieldPath} has no doc`,
          });
        }
        if (!full && 'default' in field) checkDefault(field, typeField.type, fieldPath);
        walk(field.type, typeField.type, fieldPath);
      });
    } else if (!full && obj.type === 'enum' && obj.default !== undefined) {
      const symbols = (obj.symbols as string[] | undefined) ?? [];
      if (!symbols.includes(obj.default as string)) {
        problems.push({
          path,
          rule: 'invalid-default',
          message: `enum ${String(obj.name)} default ${JSON.stringify(obj.default)} is not one of its symbols`,
        });
      }
    } else if (obj.type === 'array') {
      walk(obj.items, (underlying as avro.types.ArrayType).itemsType, `${path}[]`);
    } else if (obj.type === 'map') {
      walk(obj.values, (underlying as avro.types.MapType).valuesType as avro.Type, `${path}{}`);
    }
  };
  const checkDefault = (field: AvroSchemaObject, type: avro.Type, path: string): void => {
    try {
      (type as Copyable)._copy(field.default, { coerce: 2, wrap: 2 });
    } catch {
      const isUnion = Array.isArray(field.type);
      const first = isUnion ? (field.type as AvroSchemaJson[])[0] : undefined;
      problems.push({
        path,
        rule: 'invalid-default',
        message: isUnion
          ? `field ${path} default ${JSON.stringify(field.default)} does not match the union's first branch ${typeLabel(first)} (Avro: a union's default must be a value of its first type; put that type first)`
          : `field ${path} default ${JSON.stringify(field.default)} is not a valid ${typeLabel(field.type)}`,
      });
    }
  };
  walk(schema, bare, '');
  if (full && problems.every((p) => p.rule === 'field-doc-missing')) return { problems, type: full };
  return { problems };
}
