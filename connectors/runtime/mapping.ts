import { HubError } from '../../core/errors.ts';
import { type Coercion, coerce, uncoerce } from './coerce.ts';
import { getPath, parsePath, setPath } from './paths.ts';

/**
 * Declarative field mapping between a system's records and an event's `data`. A mapping is a
 * plain object: target field -> rule (or a source path as shorthand). The same mapping runs
 * forward (system -> hub, for sources) and in reverse (hub -> system, for pushes). Every error
 * names the field, both as the hub calls it and as the system does.
 */
export type Transform = (value: unknown, record: unknown) => unknown;

export interface FieldRule {
  /** Source path in the system record (see paths.ts); defaults to the target field's name. */
  from?: string;
  type?: Coercion;
  /** Fraction digits of a decimal. */
  scale?: number;
  /** Null is a legal value (the Avro field is a union with null). */
  nullable?: boolean;
  /** Used when the source has no value (or null and the field is not nullable). */
  default?: unknown;
  /** Applied to the source value before coercion: a function or the name of a registered transform. */
  transform?: Transform | string;
  /** Applied to the hub value on the way back, after un-coercion. */
  reverseTransform?: Transform | string;
  /** How a decimal/time is written back: as a number, a string or the system's usual form. */
  reverseAs?: 'number' | 'string' | 'native';
  /** Never written back (server-managed fields such as ids and modification stamps). */
  readOnly?: boolean;
  /** A nested record. */
  fields?: MappingSpec;
  /** A list whose elements are records mapped by this spec. */
  items?: MappingSpec;
}

export type MappingSpec = Record<string, FieldRule | string>;

export const builtinTransforms: Record<string, Transform> = {
  trim: (v) => (typeof v === 'string' ? v.trim() : v),
  lower: (v) => (typeof v === 'string' ? v.toLowerCase() : v),
  upper: (v) => (typeof v === 'string' ? v.toUpperCase() : v),
  emptyToNull: (v) => (v === '' ? null : v),
  not: (v) => (typeof v === 'boolean' ? !v : v),
};

export interface Mapping {
  /** System record -> hub data; throws MAPPING_FAILED naming every bad field. */
  apply(record: unknown): Record<string, unknown>;
  /** Hub data (possibly partial) -> system record; only fields present in `data` are written. */
  reverse(data: Record<string, unknown>): Record<string, unknown>;
  /** Target field names in order (for docs and schema checks). */
  readonly fields: readonly string[];
}

interface Problem {
  field: string;
  source: string;
  reason: string;
}

/** Checks a mapping once (paths, transform names) and returns its runner. */
export function compileMapping(
  spec: MappingSpec,
  options: { transforms?: Record<string, Transform>; name?: string } = {},
): Mapping {
  const transforms = { ...builtinTransforms, ...options.transforms };
  const rules: [string, FieldRule][] = Object.entries(spec).map(([k, r]) => [
    k,
    typeof r === 'string' ? { from: r } : r,
  ]);
  const resolve = (t: Transform | string | undefined, field: string): Transform | undefined => {
    if (t === undefined || typeof t === 'function') return t;
    const fn = transforms[t];
    if (!fn) throw new HubError('MAPPING_INVALID', `unknown transform "${t}"`, { where: { field } });
    return fn;
  };
  const compiled = rules.map(([target, rule]) => {
    const source = rule.from ?? target;
    return {
      target,
      rule,
      source,
      get: getterOf(source),
      transform: resolve(rule.transform, target),
      reverseTransform: resolve(rule.reverseTransform, target),
      nested: rule.fields ? compileMapping(rule.fields, options) : undefined,
      items: rule.items ? compileMapping(rule.items, options) : undefined,
    };
  });

  /**
   * Maps `record`. Without `naming` (the usual case, a clean record) no field name is built and
   * the first problem returns FAILED; `apply` then walks again with `naming` to name every
   * problem (a transform runs twice for that record).
   */
  const walk = (record: unknown, naming?: Naming): Record<string, unknown> | typeof FAILED => {
    const out: Record<string, unknown> = {};
    for (const c of compiled) {
      try {
        let v = c.get(record);
        if (c.transform) v = c.transform(v, record);
        if (v === undefined || (v === null && !c.rule.nullable)) {
          if (c.rule.default !== undefined) v = c.rule.default;
          else if (c.rule.nullable) v = null;
          else {
            if (!naming) return FAILED;
            report(naming, c, 'is missing');
            continue;
          }
        }
        if (v === null) out[c.target] = null;
        else if (c.nested) {
          const mapped = walkOf(c.nested)(v, naming && inside(naming, c, ''));
          if (mapped === FAILED) return FAILED;
          out[c.target] = mapped;
        } else if (c.items) {
          if (!Array.isArray(v)) {
            if (!naming) return FAILED;
            report(naming, c, 'expected a list');
            continue;
          }
          const each = walkOf(c.items);
          const list: Record<string, unknown>[] = new Array(v.length);
          for (let i = 0; i < v.length; i += 1) {
            const mapped = each(v[i], naming && inside(naming, c, `[${i}]`));
            if (mapped === FAILED) return FAILED;
            list[i] = mapped;
          }
          out[c.target] = list;
        } else out[c.target] = c.rule.type ? coerce(v, c.rule.type, c.rule.scale) : v;
      } catch (err) {
        if (!naming) return FAILED;
        report(naming, c, (err as Error).message);
      }
    }
    return out;
  };

  const backward = (data: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const c of compiled) {
      if (c.rule.readOnly || !(c.target in data)) continue;
      let v = data[c.target];
      if (v !== null && v !== undefined) {
        if (c.nested) v = c.nested.reverse(v as Record<string, unknown>);
        else if (c.items) v = (v as Record<string, unknown>[]).map((el) => c.items!.reverse(el));
        else if (c.rule.type) v = uncoerce(v, c.rule.type, c.rule.reverseAs);
      }
      if (c.reverseTransform) v = c.reverseTransform(v, data);
      setPath(out, c.source, v);
    }
    return out;
  };

  const mapping: Mapping = {
    fields: compiled.map((c) => c.target),
    apply(record) {
      const mapped = walk(record);
      if (mapped !== FAILED) return mapped;
      const problems: Problem[] = [];
      const out = walk(record, { problems, prefix: '', sourcePrefix: '' }) as Record<string, unknown>;
      if (problems.length > 0) {
        const first = problems[0]!;
        throw new HubError(
          'MAPPING_FAILED',
          `${options.name ? `${options.name}: ` : ''}${problems.map((p) => `${p.field} (from ${p.source}) ${p.reason}`).join('; ')}`,
          {
            where: { field: first.field, sourceField: first.source },
            hint: 'fix the record at the source or the mapping',
          },
        );
      }
      return out;
    },
    reverse: backward,
  };
  walkers.set(mapping, walk);
  return mapping;
}

const FAILED = Symbol('mapping failed');

/** Where problems go while naming them, and the field paths (hub and system side) so far. */
interface Naming {
  problems: Problem[];
  prefix: string;
  sourcePrefix: string;
}

type Walk = (record: unknown, naming?: Naming) => Record<string, unknown> | typeof FAILED;

// Nested mappings walk with their parent, reporting into its list with its path as prefix.
const walkers = new WeakMap<Mapping, Walk>();
const walkOf = (m: Mapping): Walk => walkers.get(m)!;

function report(naming: Naming, c: { target: string; source: string }, reason: string): void {
  naming.problems.push({ field: naming.prefix + c.target, source: naming.sourcePrefix + c.source, reason });
}

/** The naming of a nested record under field `c` (`index` like `[2]` for a list element). */
function inside(naming: Naming, c: { target: string; source: string }, index: string): Naming {
  return {
    problems: naming.problems,
    prefix: `${naming.prefix}${c.target}${index}.`,
    sourcePrefix: `${naming.sourcePrefix}${c.source}${index}.`,
  };
}

/** Reads one source path; a plain key (the common case) without walking parsed segments. */
function getterOf(path: string): (doc: unknown) => unknown {
  const segments = parsePath(path);
  const only = segments.length === 1 ? segments[0]! : undefined;
  if (only && 'key' in only) {
    const { key } = only;
    return (doc) => (doc === null || doc === undefined ? undefined : (doc as Record<string, unknown>)[key]);
  }
  return (doc) => getPath(doc, path);
}
