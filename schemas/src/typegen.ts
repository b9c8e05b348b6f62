import avro from 'avsc';
import { SHARED_NAMESPACE } from './catalog.ts';
import { DecimalType, UuidType } from './logical-types.ts';
import type { SchemaCatalog } from './types.ts';

/**
 * Generates schemas/generated/types.ts from the catalog's latest versions: one interface per
 * record, a string-literal union per enum, `Buffer` per fixed, and `EventTypes` mapping each
 * event's full name to its type. Representations follow logical-types.ts (decimal and uuid are
 * strings, timestamps numbers) and avsc's union handling (unions avsc can't tell apart by JS
 * type are wrapped as `{ branchName: value }`). Fields with a default are optional: the serde
 * fills the default in when encoding.
 */

type T = avro.Type & { typeName: string; name?: string; doc?: string };

function pascal(word: string): string {
  return word
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** TS identifier for an Avro full name: common types keep their name, others get the domain prefix. */
export function tsTypeName(fullName: string): string {
  const parts = fullName.split('.');
  const local = parts.at(-1) ?? fullName;
  if (fullName.startsWith(`${SHARED_NAMESPACE}.`)) return local;
  const ns = parts.slice(0, -1).filter((p) => p !== 'tributary');
  return `${ns.map(pascal).join('')}${local}`;
}

function jsdoc(text: string | undefined, indent: string): string {
  if (!text) return '';
  const lines = text.replace(/\*\//g, '*\\/').split('\n');
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)).join('\n')}\n${indent} */\n`;
}

function quoteKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
}

/** Collects TS declarations for every named type reachable from `type`. */
class Emitter {
  readonly declarations = new Map<string, string>();

  tsOf(type: avro.Type): string {
    const t = type as T;
    if (t instanceof DecimalType || t instanceof UuidType) return 'string';
    if (t instanceof avro.types.LogicalType) return this.tsOf(t.underlyingType);
    switch (t.typeName) {
      case 'null':
        return 'null';
      case 'boolean':
        return 'boolean';
      case 'int':
      case 'long':
      case 'float':
      case 'double':
        return 'number';
      case 'bytes':
        return 'Buffer';
      case 'string':
        return 'string';
      case 'array':
        return `Array<${this.tsOf((t as unknown as avro.types.ArrayType).itemsType)}>`;
      case 'map':
        return `Record<string, ${this.tsOf((t as unknown as avro.types.MapType).valuesType as avro.Type)}>`;
      case 'union:unwrapped':
        return (t as unknown as { types: avro.Type[] }).types.map((b) => this.tsOf(b)).join(' | ');
      case 'union:wrapped':
        return (t as unknown as { types: avro.Type[] }).types
          .map((b) => {
            const inner = this.tsOf(b);
            return inner === 'null' ? 'null' : `{ ${JSON.stringify(b.branchName)}: ${inner} }`;
          })
          .join(' | ');
      case 'record':
      case 'error':
      case 'enum':
      case 'fixed':
        this.declare(t);
        return tsTypeName(t.name ?? '');
      default:
        return 'unknown';
    }
  }

  declare(t: T): void {
    const full = t.name ?? '';
    if (this.declarations.has(full)) return;
    const name = tsTypeName(full);
    const doc = jsdoc(t.doc ? `${t.doc}\n\nAvro: ${full}` : `Avro: ${full}`, '');
    if (t.typeName === 'enum') {
      const symbols = (t as unknown as avro.types.EnumType).symbols.map((s) => `'${s}'`).join(' | ');
      this.declarations.set(full, `${doc}export type ${name} = ${symbols};\n`);
      return;
    }
    if (t.typeName === 'fixed') {
      this.declarations.set(full, `${doc}export type ${name} = Buffer;\n`);
      return;
    }
    this.declarations.set(full, ''); // placeholder: recursive types refer to themselves by name
    const fields = (t as unknown as avro.types.RecordType).fields.map((f) => {
      const optional = f.defaultValue() !== undefined ? '?' : '';
      const fieldDoc = (f as unknown as { doc?: string }).doc;
      return `${jsdoc(fieldDoc, '  ')}  ${quoteKey(f.name)}${optional}: ${this.tsOf(f.type)};\n`;
    });
    this.declarations.set(full, `${doc}export interface ${name} {\n${fields.join('')}}\n`);
  }
}

/** The full text of schemas/generated/types.ts for `catalog`. */
export function generateTypes(catalog: SchemaCatalog): string {
  const emitter = new Emitter();
  const names = catalog.names();
  // Shared types first, so their declarations come from their own files, not from an embedding.
  const ordered = [
    ...names.filter((n) => n.startsWith(`${SHARED_NAMESPACE}.`)),
    ...names.filter((n) => !n.startsWith(`${SHARED_NAMESPACE}.`)),
  ];
  for (const name of ordered) emitter.tsOf(catalog.latest(name).type);
  const events = names.filter((n) => !n.startsWith(`${SHARED_NAMESPACE}.`));
  const decls = [...emitter.declarations.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, text]) => text);
  const eventMap = events.map((n) => `  ${JSON.stringify(n)}: ${tsTypeName(n)};\n`).join('');
  const versions = names.map((n) => `  ${JSON.stringify(n)}: ${catalog.latest(n).version},\n`).join('');
  return [
    '// Generated by `tributary schemas types` from schemas/**/*.avsc (latest version of each schema).\n',
    '// Do not edit: change the .avsc files and run the command again. A test fails when this file is stale.\n',
    decls.join('\n'),
    '\n/** Every event record by Avro full name: what `Serde.encode(topic, name, value)` accepts. */\n',
    `export interface EventTypes {\n${eventMap}}\n`,
    '\n/** Latest catalog version of every schema. */\n',
    `export const latestVersions = {\n${versions}} as const;\n`,
    '\n/** Avro full name of an event. */\n',
    'export type EventName = keyof EventTypes;\n',
    '\n/** The `data` payload type of event `N`. */\n',
    'export type EventData<N extends EventName> = EventTypes[N] extends { data: infer D } ? D : never;\n',
  ].join('');
}
