import type { AvroSchemaObject } from './types.ts';

/** Avro's primitive type names; every other bare string in a schema names a defined type. */
export const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/** Avro's named types (the ones that define a name and may be referenced later by it). */
export const NAMED_KINDS = new Set(['record', 'error', 'enum', 'fixed']);

/** The full name a reference or definition resolves to inside namespace `ns` (Avro name rules). */
export function qualify(name: string, ns: string | undefined): string {
  if (name.includes('.') || !ns) return name;
  return `${ns}.${name}`;
}

/** Namespace part of a full name ('' when none). */
export function namespaceOf(fullName: string): string {
  const i = fullName.lastIndexOf('.');
  return i < 0 ? '' : fullName.slice(0, i);
}

/** True for an object schema that defines a named type. */
export function isNamedDefinition(node: unknown): node is AvroSchemaObject & { name: string } {
  return (
    typeof node === 'object' &&
    node !== null &&
    !Array.isArray(node) &&
    typeof (node as AvroSchemaObject).type === 'string' &&
    NAMED_KINDS.has((node as AvroSchemaObject).type as string) &&
    typeof (node as { name?: unknown }).name === 'string'
  );
}

/** Full name defined by a named-type object inside namespace `ns`. */
export function definedName(node: AvroSchemaObject & { name: string }, ns: string | undefined): string {
  const own = typeof node.namespace === 'string' ? node.namespace : ns;
  return qualify(node.name, own || undefined);
}

/** Deep copy of a JSON value. */
export function cloneJson<T>(value: T): T {
  return structuredClone(value);
}
