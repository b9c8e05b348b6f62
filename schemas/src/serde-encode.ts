import type avro from 'avsc';
import { SerdeError } from './serde-error.ts';
import { strictType } from './strict-writer.ts';
import type { CatalogEntry, SchemaCatalog } from './types.ts';
import { valueErrors } from './value-errors.ts';
import { frame } from './wire.ts';

/** What the serde's encode needs for one topic and schema name. */
export interface EncodeTarget {
  entry: CatalogEntry;
  /** The serde's strict copy of entry.type (strict-writer.ts). */
  writer: avro.Type;
  subject: string;
  /** Key of the registration in `ids`. */
  key: string;
  /** The registry id, once registered. */
  schemaId: number | undefined;
}

/**
 * The strict writer refused `value`: the walk that names every bad field, for the error. Should
 * the catalog type accept it after all, encodes it with that type (room left for the header).
 */
export function slowEncode(topic: string, schemaName: string, entry: CatalogEntry, value: unknown): Buffer {
  const valid = entry.type.isValid(value, { noUndeclaredFields: true });
  const problems = valid ? [] : valueErrors(entry.type, value);
  if (!valid && problems.length === 0) problems.push({ path: '', message: 'does not match the schema' });
  const first = problems[0];
  if (first) {
    const list = problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ');
    throw new SerdeError('SERDE_INVALID', `value for ${schemaName} v${entry.version} is invalid: ${list}`, {
      topic,
      schema: schemaName,
      field: first.path || undefined,
    });
  }
  return frame(0, entry.type.toBuffer(value));
}

/**
 * Per topic and schema name, the encode target, built once (again when the catalog's latest
 * entry changes); throws SERDE_UNKNOWN_SCHEMA for a name the catalog doesn't have.
 */
export function encodeTargets(
  catalog: SchemaCatalog,
  subjectFor: (topic: string, schemaName: string) => string,
): (topic: string, schemaName: string) => EncodeTarget {
  const targets = new Map<string, Map<string, EncodeTarget>>();
  const writers = new WeakMap<CatalogEntry, avro.Type>();
  return (topic, schemaName) => {
    if (!catalog.has(schemaName)) {
      throw new SerdeError('SERDE_UNKNOWN_SCHEMA', `no schema named ${schemaName} in the catalog`, {
        topic,
        schema: schemaName,
      });
    }
    const entry = catalog.latest(schemaName);
    let byTopic = targets.get(schemaName);
    if (!byTopic) {
      byTopic = new Map();
      targets.set(schemaName, byTopic);
    }
    let target = byTopic.get(topic);
    if (target?.entry !== entry) {
      let writer = writers.get(entry);
      if (!writer) {
        writer = strictType(entry.schema);
        writers.set(entry, writer);
      }
      const subject = subjectFor(topic, schemaName);
      const key = `${subject}\u0000${schemaName}@${entry.version}`;
      target = { entry, writer, subject, key, schemaId: undefined };
      byTopic.set(topic, target);
    }
    return target;
  };
}
