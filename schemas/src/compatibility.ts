import avro from 'avsc';
import { avscOptions, DecimalType, UuidType } from './logical-types.ts';
import type { AvroSchemaJson } from './types.ts';

/**
 * Avro schema-resolution rules, implemented by walking both schemas so every violation names the
 * field it is about (avsc's resolver only says "cannot read X as Y"). Reading writer data W with
 * reader schema R works when:
 * - same primitive, or a promotion: int -> long/float/double, long -> float/double,
 *   float -> double, string <-> bytes;
 * - records with the same full name (or R's aliases name W): every R field is in W (by name or
 *   alias) or has a default; W fields R lacks are skipped;
 * - enums with the same name: every W symbol is in R, or R has an enum default;
 * - fixed with the same name and size; arrays/maps whose items/values resolve;
 * - W a union: every W branch resolves; R a union (W not): some R branch resolves W;
 * - decimal: same scale and precision on both sides (else the number silently changes).
 */
export type CompatibilityMode =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

export const COMPATIBILITY_MODES: readonly CompatibilityMode[] = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
];

/** Why a reader can't read a writer, at one field. `detail` is phrased old -> new by the caller. */
interface ReadProblem {
  path: string;
  rule: string;
  /** [message when the reader is the newer schema, message when the reader is the older one] */
  detail: [string, string];
}

type T = avro.Type & { typeName: string; name?: string; aliases?: string[] };

const PROMOTIONS: Record<string, string[]> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

function branches(t: avro.Type): avro.Type[] {
  return (t as unknown as { types: avro.Type[] }).types;
}

function isUnion(t: avro.Type): boolean {
  return (t as T).typeName.startsWith('union:');
}

function label(t: avro.Type): string {
  const x = t as T;
  if (x instanceof DecimalType) return `decimal(${x.precision},${x.scale})`;
  if (x instanceof UuidType) return 'uuid';
  if (x.typeName.startsWith('logical:')) return label((x as avro.types.LogicalType).underlyingType);
  if (isUnion(x)) return `[${branches(x).map(label).join(', ')}]`;
  if (x.typeName === 'array') return `array<${label((x as avro.types.ArrayType).itemsType)}>`;
  if (x.typeName === 'map') return `map<${label((x as avro.types.MapType).valuesType as avro.Type)}>`;
  return x.name ?? x.typeName;
}

/** The non-logical kind (uuid is a string, decimal is its bytes/fixed) for structural rules. */
function kindOf(t: avro.Type): T {
  return (t instanceof avro.types.LogicalType ? t.underlyingType : t) as T;
}

function nameMatches(reader: T, writer: T): boolean {
  return reader.name === writer.name || (reader.aliases ?? []).includes(writer.name ?? '');
}

/** True when `reader` can read `writer` at the top level (no recursion into children). */
function shallowMatch(reader: avro.Type, writer: avro.Type): boolean {
  const r = kindOf(reader);
  const w = kindOf(writer);
  if (['record', 'error', 'enum', 'fixed'].includes(r.typeName))
    return r.typeName === w.typeName && nameMatches(r, w);
  return r.typeName === w.typeName || (PROMOTIONS[w.typeName] ?? []).includes(r.typeName);
}

/** Every problem a `reader` has reading data written with `writer`; empty when they resolve. */
export function readProblems(
  reader: avro.Type,
  writer: avro.Type,
  path = '',
  seen = new Set<string>(),
): ReadProblem[] {
  const at = path || '(root)';
  if (isUnion(writer)) {
    return branches(writer).flatMap((branch) => readProblems(reader, branch, path, seen));
  }
  if (isUnion(reader)) {
    const options = branches(reader);
    const exact = options.find(
      (b) => shallowMatch(b, writer) && kindOf(b).typeName === kindOf(writer).typeName,
    );
    const match = exact ?? options.find((b) => shallowMatch(b, writer));
    if (!match) {
      const text = `field ${at}: union ${label(reader)} has no branch for ${label(writer)}`;
      return [
        {
          path,
          rule: 'union-branch-missing',
          detail: [`${text} (branch removed)`, `${text} (branch added)`],
        },
      ];
    }
    return readProblems(match, writer, path, seen);
  }
  if (reader instanceof DecimalType || writer instanceof DecimalType) {
    const same =
      reader instanceof DecimalType &&
      writer instanceof DecimalType &&
      reader.scale === writer.scale &&
      reader.precision >= writer.precision;
    if (!same && reader instanceof DecimalType) {
      const text = `field ${at}: ${label(writer)} can't be read as ${label(reader)}`;
      return [{ path, rule: 'decimal-changed', detail: [text, text] }];
    }
  }
  const r = kindOf(reader);
  const w = kindOf(writer);
  if (!shallowMatch(r, w)) {
    const named = r.typeName === w.typeName;
    const rule = named ? 'name-changed' : 'type-changed';
    const newer = `field ${at}: type changed from ${label(writer)} to ${label(reader)}`;
    const older = `field ${at}: type changed from ${label(reader)} to ${label(writer)}`;
    return [{ path, rule, detail: [`${newer} (not an Avro promotion)`, `${older} (not an Avro promotion)`] }];
  }
  switch (r.typeName) {
    case 'record':
    case 'error': {
      const key = `${r.name}|${w.name}`;
      if (seen.has(key)) return [];
      seen.add(key);
      const rec = r as unknown as avro.types.RecordType;
      const wrec = w as unknown as avro.types.RecordType;
      return rec.fields.flatMap((field) => {
        const fieldPath = path ? `${path}.${field.name}` : field.name;
        const written =
          wrec.fields.find((f) => f.name === field.name) ??
          wrec.fields.find((f) => (field.aliases ?? []).includes(f.name));
        if (written) return readProblems(field.type, written.type, fieldPath, seen);
        if (field.defaultValue() !== undefined) return [];
        return [
          {
            path: fieldPath,
            rule: 'field-without-default',
            detail: [
              `field ${fieldPath} added without a default`,
              `field ${fieldPath} removed but has no default in the older schema`,
            ],
          },
        ];
      });
    }
    case 'enum': {
      const symbols = (r as unknown as avro.types.EnumType).symbols;
      const missing = (w as unknown as avro.types.EnumType).symbols.filter((s) => !symbols.includes(s));
      if (missing.length === 0 || (r as unknown as { default?: string }).default !== undefined) return [];
      const list = missing.join(', ');
      return [
        {
          path,
          rule: 'enum-symbol-missing',
          detail: [
            `field ${at}: enum ${r.name} symbol(s) ${list} removed (and no enum default)`,
            `field ${at}: enum ${r.name} symbol(s) ${list} added (older readers have no enum default)`,
          ],
        },
      ];
    }
    case 'fixed': {
      const rs = (r as unknown as avro.types.FixedType).size;
      const ws = (w as unknown as avro.types.FixedType).size;
      if (rs === ws) return [];
      const text = `field ${at}: fixed ${r.name} size changed between ${ws} and ${rs}`;
      return [{ path, rule: 'fixed-size-changed', detail: [text, text] }];
    }
    case 'array':
      return readProblems(
        (r as unknown as avro.types.ArrayType).itemsType,
        (w as unknown as avro.types.ArrayType).itemsType,
        `${path}[]`,
        seen,
      );
    case 'map':
      return readProblems(
        (r as unknown as avro.types.MapType).valuesType as avro.Type,
        (w as unknown as avro.types.MapType).valuesType as avro.Type,
        `${path}{}`,
        seen,
      );
    default:
      return [];
  }
}

/** First reason `reader` can't read `writer`, for decode-time errors; undefined if none found. */
export function explainUnresolvable(reader: avro.Type, writer: avro.Type): string | undefined {
  const first = readProblems(reader, writer)[0];
  return first ? `${first.detail[0]} [${first.rule}]` : undefined;
}

/** A schema version to compare: a catalog entry, or bare JSON (versions are then numbered 1..n). */
export type VersionedSchema = { name: string; version: number; type: avro.Type } | AvroSchemaJson;

/** One broken rule between two versions. */
export interface CompatibilityViolation {
  /** Field path, e.g. `data.email` ('' for the root). */
  path: string;
  /** field-without-default, type-changed, name-changed, enum-symbol-missing, union-branch-missing, fixed-size-changed, decimal-changed */
  rule: string;
  /** Which direction broke: BACKWARD (new reads old) or FORWARD (old reads new). */
  direction: 'BACKWARD' | 'FORWARD';
  mode: CompatibilityMode;
  name: string;
  newVersion: number;
  oldVersion: number;
  /** e.g. "crm.ContactChanged v2 -> v1: field data.email added without a default (BACKWARD: a v2 reader can't read v1 data)" */
  message: string;
}

function normalize(
  s: VersionedSchema,
  fallbackVersion: number,
): { name: string; version: number; type: avro.Type } {
  if (typeof s === 'object' && s !== null && 'type' in s && s.type instanceof avro.Type) {
    return s as { name: string; version: number; type: avro.Type };
  }
  const type = avro.Type.forSchema(s as avro.Schema, avscOptions());
  return { name: type.name ?? type.typeName, version: fallbackVersion, type };
}

/**
 * Violations of `mode` when `newSchema` follows `oldSchemas` (oldest first). Non-transitive modes
 * compare with the latest old version only, transitive ones with every old version.
 */
export function checkCompatibility(
  newSchema: VersionedSchema,
  oldSchemas: VersionedSchema[],
  mode: CompatibilityMode = 'BACKWARD',
): CompatibilityViolation[] {
  if (mode === 'NONE' || oldSchemas.length === 0) return [];
  const olds = oldSchemas.map((s, i) => normalize(s, i + 1));
  const next = normalize(newSchema, olds.length + 1);
  const against = mode.endsWith('_TRANSITIVE') ? olds : olds.slice(-1);
  const backward = mode.startsWith('BACKWARD') || mode.startsWith('FULL');
  const forward = mode.startsWith('FORWARD') || mode.startsWith('FULL');
  const short = next.name.replace(/^tributary\./, '');
  const out: CompatibilityViolation[] = [];
  for (const old of against) {
    const pairs: Array<['BACKWARD' | 'FORWARD', avro.Type, avro.Type]> = [];
    if (backward) pairs.push(['BACKWARD', next.type, old.type]);
    if (forward) pairs.push(['FORWARD', old.type, next.type]);
    for (const [direction, reader, writer] of pairs) {
      for (const p of readProblems(reader, writer)) {
        const [rv, wv] = direction === 'BACKWARD' ? [next.version, old.version] : [old.version, next.version];
        const detail = direction === 'BACKWARD' ? p.detail[0] : p.detail[1];
        out.push({
          path: p.path,
          rule: p.rule,
          direction,
          mode,
          name: next.name,
          newVersion: next.version,
          oldVersion: old.version,
          message: `${short} v${next.version} -> v${old.version}: ${detail} [${p.rule}] (${direction}: a v${rv} reader can't read v${wv} data)`,
        });
      }
    }
  }
  return out;
}
