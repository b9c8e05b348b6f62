import { cloneJson, definedName, isNamedDefinition, namespaceOf, PRIMITIVES, qualify } from './names.ts';
import type { AvroSchemaJson, AvroSchemaObject } from './types.ts';

/**
 * Makes a schema self-contained: the first reference to a shared named type (a key of `shared`,
 * e.g. `tributary.common.Envelope`) is replaced by that type's full definition; later references
 * stay names, as Avro requires a name to be defined once. Registries then store a schema that
 * Java, Python and avsc parse on its own. Shared types may reference each other.
 */
export function inlineSharedTypes(
  schema: AvroSchemaJson,
  shared: ReadonlyMap<string, AvroSchemaJson>,
): AvroSchemaJson {
  const defined = new Set<string>();
  const walk = (node: AvroSchemaJson, ns: string | undefined): AvroSchemaJson => {
    if (typeof node === 'string') {
      if (PRIMITIVES.has(node)) return node;
      const full = qualify(node, ns);
      const definition = shared.get(full);
      if (defined.has(full) || definition === undefined) return node;
      return walk(cloneJson(definition), ns);
    }
    if (Array.isArray(node)) return node.map((branch) => walk(branch, ns));
    const obj: AvroSchemaObject = { ...node };
    if (isNamedDefinition(obj)) {
      const full = definedName(obj, ns);
      defined.add(full);
      const inner = namespaceOf(full) || undefined;
      if (Array.isArray(obj.fields)) {
        obj.fields = (obj.fields as AvroSchemaObject[]).map((field) => ({
          ...field,
          type: walk(field.type, inner),
        }));
      }
      return obj;
    }
    if (obj.type === 'array' && obj.items !== undefined) obj.items = walk(obj.items as AvroSchemaJson, ns);
    else if (obj.type === 'map' && obj.values !== undefined)
      obj.values = walk(obj.values as AvroSchemaJson, ns);
    else if (typeof obj.type === 'object' || (typeof obj.type === 'string' && !PRIMITIVES.has(obj.type))) {
      obj.type = walk(obj.type, ns);
    }
    return obj;
  };
  return walk(schema, undefined);
}
