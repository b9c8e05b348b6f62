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

type Collect = (
  record: unknown,
  prefix: string,
  sourcePrefix: string,
  problems: Problem[],
) => Record<string, unknown>;

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

  const forward = (
    record: unknown,
    prefix: string,
    sourcePrefix: string,
    problems: Problem[],
  ): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const c of compiled) {
      const field = `${prefix}${c.target}`;
      const source = `${sourcePrefix}${c.source}`;
      try {
        let v = c.get(record);
        if (c.transform) v = c.transform(v, record);
        if (v === undefined || (v === null && !c.rule.nullable)) {
          if (c.rule.default !== undefined) v = c.rule.default;
          else if (c.rule.nullable) v = null;
          else {
            problems.push({ field, source, reason: 'is missing' });
            continue;
          }
        }
        if (v === null) out[c.target] = null;
        else if (c.nested) out[c.target] = collectOf(c.nested)(v, `${field}.`, `${source}.`, problems);
        else if (c.items) {
          if (!Array.isArray(v)) {
            problems.push({ field, source, reason: 'expected a list' });
            continue;
          }
          const collect = collectOf(c.items);
          out[c.target] = v.map((el, i) => collect(el, `${field}[${i}].`, `${source}[${i}].`, problems));
        } else out[c.target] = c.rule.type ? coerce(v, c.rule.type, c.rule.scale) : v;
      } catch (err) {
        problems.push({ field, source, reason: (err as Error).message });
      }
    }
    return out;
  };

  /**
   * The usual case, a record that maps cleanly, without building any field's name: returns
   * FAILED at the first problem, and `forward` then runs to name every problem (a transform
   * then runs twice for that record).
   */
  const fast = (record: unknown): Record<string, unknown> | typeof FAILED => {
    const out: Record<string, unknown> = {};
    try {
      for (const c of compiled) {
        let v = c.get(record);
        if (c.transform) v = c.transform(v, record);
        if (v === undefined || (v === null && !c.rule.nullable)) {
          if (c.rule.default !== undefined) v = c.rule.default;
          else if (c.rule.nullable) v = null;
          else return FAILED;
        }
        if (v === null) out[c.target] = null;
        else if (c.nested) {
          const mapped = fastOf(c.nested)(v);
          if (mapped === FAILED) return FAILED;
          out[c.target] = mapped;
        } else if (c.items) {
          if (!Array.isArray(v)) return FAILED;
          const each = fastOf(c.items);
          const list: Record<string, unknown>[] = new Array(v.length);
          for (let i = 0; i < v.length; i += 1) {
            const mapped = each(v[i]);
            if (mapped === FAILED) return FAILED;
            list[i] = mapped;
          }
          out[c.target] = list;
        } else out[c.target] = c.rule.type ? coerce(v, c.rule.type, c.rule.scale) : v;
      }
    } catch {
      return FAILED;
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
      const mapped = fast(record);
      if (mapped !== FAILED) return mapped;
      const problems: Problem[] = [];
      const out = forward(record, '', '', problems);
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
  collectors.set(mapping, forward);
  fastPasses.set(mapping, fast);
  return mapping;
}

const FAILED = Symbol('mapping failed');
type FastPass = (record: unknown) => Record<string, unknown> | typeof FAILED;
const fastPasses = new WeakMap<Mapping, FastPass>();
const fastOf = (m: Mapping): FastPass => fastPasses.get(m)!;

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

// Nested mappings report problems into their parent's list, with the parent's path as prefix.
const collectors = new WeakMap<Mapping, Collect>();
const collectOf = (m: Mapping): Collect => collectors.get(m)!;
