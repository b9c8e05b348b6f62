/**
 * Unknown-key detection over zod schemas. zod objects strip keys they don't know, so a
 * misspelt setting would silently fall back to its default; the hub refuses it instead. The
 * walk looks through wrappers (default, optional, nullable, pipe, lazy) to plain objects and
 * leaves unions, records and passthrough objects to the schema itself.
 */

interface ZodInternals {
  _zod?: { def?: Record<string, unknown> & { type?: string } };
}

function defOf(schema: unknown): (Record<string, unknown> & { type?: string }) | undefined {
  return (schema as ZodInternals | undefined)?._zod?.def;
}

/** The object schema behind wrappers, or undefined when the schema is not a plain object. */
function objectDef(schema: unknown, depth = 0): Record<string, unknown> | undefined {
  const def = defOf(schema);
  if (!def || depth > 20) return undefined;
  switch (def.type) {
    case 'object':
      return def;
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
    case 'readonly':
    case 'catch':
      return objectDef(def.innerType, depth + 1);
    case 'pipe':
      return objectDef(def.in, depth + 1);
    case 'lazy':
      return objectDef((def.getter as () => unknown)(), depth + 1);
    default:
      return undefined;
  }
}

/** True when an object schema keeps or checks extra keys itself (passthrough, catchall, strict). */
function acceptsOwnExtras(def: Record<string, unknown>): boolean {
  const catchall = defOf(def.catchall);
  return catchall !== undefined && catchall.type !== 'never';
}

function shapeOf(schema: unknown): Record<string, unknown> | undefined {
  const def = objectDef(schema);
  return def ? (def.shape as Record<string, unknown>) : undefined;
}

export interface UnknownKey {
  /** Dotted path of the unknown key, e.g. `http.endpoint`. */
  path: string;
  /** Dotted path of the object it sits in ('' at the top). */
  parent: string;
  known: string[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

function find(schema: unknown, value: unknown, prefix: string[] = []): UnknownKey | undefined {
  const def = objectDef(schema);
  if (!def || !isPlainObject(value)) return undefined;
  const shape = def.shape as Record<string, unknown>;
  const known = Object.keys(shape);
  for (const [key, child] of Object.entries(value)) {
    if (!(key in shape)) {
      if (acceptsOwnExtras(def)) continue;
      return { path: [...prefix, key].join('.'), parent: prefix.join('.'), known };
    }
    const nested = find(shape[key], child, [...prefix, key]);
    if (nested) return nested;
  }
  return undefined;
}

export const unknownKeys = {
  /** The first key in `value` that the schema does not declare, with the keys it does. */
  find,
  /** The keys an object schema declares (none for other schemas). */
  shapeKeys(schema: unknown): string[] {
    return Object.keys(shapeOf(schema) ?? {});
  },
  /** The schema of one key of an object schema. */
  child(schema: unknown, key: string): unknown {
    return shapeOf(schema)?.[key];
  },
};
