import './avsc-guards.ts';
import avro from 'avsc';
import canonicalize from 'canonicalize';
import { type ErrorLocation, HubError } from '../../core/errors.ts';
import type { EventTypes } from '../generated/types.ts';
import { explainUnresolvable } from './compatibility.ts';
import { avscOptions } from './logical-types.ts';
import type { AvroSchemaJson, SchemaCatalog, SchemaRegistry } from './types.ts';
import { valueErrors } from './value-errors.ts';
import { frame, unframe } from './wire.ts';

/**
 * Serde error codes (SerdeError, a HubError; `where` names topic, partition and offset on decode,
 * topic, schema and field on encode). None is retriable: the same bytes fail the same way, so the
 * record belongs in the DLQ. Registry outages surface as the registry's own retriable errors
 * (SCHEMA_REGISTRY_UNREACHABLE, SCHEMA_REGISTRY_ERROR) with the same `where`.
 * - SERDE_BAD_MAGIC: the first byte is not 0, so the record is not in the Confluent wire format.
 * - SERDE_TRUNCATED: the record ends inside the header or inside the Avro body.
 * - SERDE_CORRUPT: the body does not decode with its writer schema (bad lengths, union index,
 *   trailing bytes).
 * - SERDE_UNKNOWN_SCHEMA_ID: the registry has no schema with the header's id.
 * - SERDE_UNRESOLVABLE: the writer's schema cannot be read as the catalog's latest version.
 * - SERDE_UNKNOWN_SCHEMA: encode was asked for a schema name the catalog doesn't have.
 * - SERDE_INVALID: the value to encode doesn't match the schema; `where.field` is the path.
 */
export class SerdeError extends HubError {
  constructor(code: string, message: string, where: ErrorLocation, cause?: unknown) {
    super(code, message, { where, ...(cause === undefined ? {} : { cause }) });
    this.name = 'SerdeError';
  }
}

/** A decoded record. */
export interface DecodedEvent {
  /** Avro full name of the writer's record, e.g. `tributary.crm.ContactChanged`. */
  schemaName: string;
  schemaId: number;
  /** Catalog version whose schema equals the writer's, when the catalog has it. */
  writerVersion?: number;
  /** The value in the reader's shape (catalog's latest version), or the writer's when unknown. */
  value: unknown;
}

/** Where a record came from, for error messages. */
export interface RecordLocation {
  topic: string;
  partition: number;
  offset: string;
}

/** Value type `encode` accepts for a schema name: the generated type when the name is known. */
export type EncodableValue<N extends string> = N extends keyof EventTypes ? EventTypes[N] : unknown;

export interface Serde {
  /** Validates `value` against the catalog's latest `schemaName` and frames it with its registry id. */
  encode<N extends string>(topic: string, schemaName: N, value: EncodableValue<N>): Promise<Buffer>;
  /** Decodes a framed record, resolving the writer's schema to the catalog's latest version. */
  decode(buffer: Buffer, where: RecordLocation): Promise<DecodedEvent>;
}

export interface SerdeOptions {
  registry: SchemaRegistry;
  catalog: SchemaCatalog;
  /** Subject naming; default TopicNameStrategy (`<topic>-value`), as Confluent's serializers. */
  subjectFor?: (topic: string, schemaName: string) => string;
}

/** Confluent's default subject naming for record values. */
export const topicNameStrategy = (topic: string): string => `${topic}-value`;

interface WriterInfo {
  type: avro.Type;
  name: string;
  canonical: string;
}

function locate(where: RecordLocation): ErrorLocation {
  return { topic: where.topic, partition: where.partition, offset: where.offset };
}

/** Adds where-context to a registry error, keeping its code and retriable flag. */
function withWhere(err: unknown, where: ErrorLocation): HubError {
  if (err instanceof HubError) {
    return new HubError(err.code, err.message, {
      retriable: err.retriable,
      where: { ...err.where, ...where },
      cause: err,
      ...(err.hint ? { hint: err.hint } : {}),
    });
  }
  return new HubError('SCHEMA_REGISTRY_ERROR', String((err as Error)?.message ?? err), { where, cause: err });
}

/** Builds the serde; caches ids per subject and writer types/resolvers per schema id. */
export function createSerde(options: SerdeOptions): Serde {
  const { registry, catalog } = options;
  const subjectFor = options.subjectFor ?? topicNameStrategy;
  const ids = new Map<string, Promise<number>>();
  const writers = new Map<number, Promise<WriterInfo>>();
  const resolvers = new Map<number, unknown>();
  const catalogCanonical = new Map<string, number | undefined>();

  const writerVersion = (name: string, canonical: string): number | undefined => {
    if (!catalog.has(name)) return undefined;
    for (const entry of catalog.versions(name)) {
      const key = `${name}@${entry.version}`;
      if (!catalogCanonical.has(key))
        catalogCanonical.set(key, canonicalize(entry.schema) === canonical ? entry.version : undefined);
      if (catalogCanonical.get(key) !== undefined) return entry.version;
    }
    return undefined;
  };

  const writerFor = (id: number, where: ErrorLocation): Promise<WriterInfo> => {
    let pending = writers.get(id);
    if (!pending) {
      pending = (async () => {
        let schema: AvroSchemaJson;
        try {
          schema = await registry.getById(id);
        } catch (err) {
          if (err instanceof HubError && err.code === 'SCHEMA_ID_UNKNOWN') {
            throw new SerdeError(
              'SERDE_UNKNOWN_SCHEMA_ID',
              `schema id ${id} is not in the registry`,
              { ...where, schemaId: id },
              err,
            );
          }
          throw withWhere(err, where);
        }
        let type: avro.Type;
        try {
          type = avro.Type.forSchema(schema as avro.Schema, avscOptions());
        } catch (err) {
          throw new SerdeError(
            'SERDE_UNRESOLVABLE',
            `writer schema ${id} does not parse: ${(err as Error).message}`,
            { ...where, schemaId: id },
            err,
          );
        }
        return { type, name: type.name ?? type.typeName, canonical: canonicalize(schema) as string };
      })();
      writers.set(id, pending);
      // A failed lookup must not stick: the registry may learn the id later.
      pending.catch(() => writers.delete(id));
    }
    return pending;
  };

  return {
    async encode(topic, schemaName, value) {
      if (!catalog.has(schemaName)) {
        throw new SerdeError('SERDE_UNKNOWN_SCHEMA', `no schema named ${schemaName} in the catalog`, {
          topic,
          schema: schemaName,
        });
      }
      const entry = catalog.latest(schemaName);
      // One strict check on the hot path; the slower walk that names fields only for a bad value.
      const valid = entry.type.isValid(value, { noUndeclaredFields: true });
      const problems = valid ? [] : valueErrors(entry.type, value);
      if (!valid && problems.length === 0) problems.push({ path: '', message: 'does not match the schema' });
      const first = problems[0];
      if (first) {
        const list = problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ');
        throw new SerdeError(
          'SERDE_INVALID',
          `value for ${schemaName} v${entry.version} is invalid: ${list}`,
          {
            topic,
            schema: schemaName,
            field: first.path || undefined,
          },
        );
      }
      const subject = subjectFor(topic, schemaName);
      const key = `${subject}\u0000${schemaName}@${entry.version}`;
      let id = ids.get(key);
      if (!id) {
        id = registry.register(subject, entry.schema, { version: entry.version });
        ids.set(key, id);
        id.catch(() => ids.delete(key));
      }
      let schemaId: number;
      try {
        schemaId = await id;
      } catch (err) {
        throw withWhere(err, { topic, subject, schema: schemaName });
      }
      return frame(schemaId, entry.type.toBuffer(value));
    },

    async decode(buffer, where) {
      const at = locate(where);
      const framed = unframe(buffer);
      if ('problem' in framed) {
        const code = framed.problem === 'bad-magic' ? 'SERDE_BAD_MAGIC' : 'SERDE_TRUNCATED';
        throw new SerdeError(code, `record is not a Confluent-framed Avro message: ${framed.detail}`, at);
      }
      const { schemaId, body } = framed;
      const writer = await writerFor(schemaId, at);
      let readerType = writer.type;
      let resolver: unknown;
      if (catalog.has(writer.name)) {
        const reader = catalog.latest(writer.name);
        readerType = reader.type;
        resolver = resolvers.get(schemaId);
        if (resolver === undefined) {
          try {
            resolver = reader.type.createResolver(writer.type);
          } catch (err) {
            const why = explainUnresolvable(reader.type, writer.type);
            throw new SerdeError(
              'SERDE_UNRESOLVABLE',
              `writer schema ${schemaId} (${writer.name}) can't be read as catalog v${reader.version}: ${why ?? (err as Error).message}`,
              { ...at, schemaId },
              err,
            );
          }
          resolvers.set(schemaId, resolver);
        }
      }
      let decoded: { value: unknown; offset: number };
      try {
        decoded = readerType.decode(body, 0, resolver as avro.Resolver | undefined);
      } catch (err) {
        throw new SerdeError(
          'SERDE_CORRUPT',
          `record body does not decode as ${writer.name}: ${(err as Error).message}`,
          { ...at, schemaId },
          err,
        );
      }
      if (decoded.offset < 0) {
        throw new SerdeError(
          'SERDE_TRUNCATED',
          `record body ends early (${body.length} bytes) for ${writer.name}`,
          { ...at, schemaId },
        );
      }
      if (decoded.offset !== body.length) {
        throw new SerdeError(
          'SERDE_CORRUPT',
          `record body has ${body.length - decoded.offset} trailing bytes after a ${writer.name}`,
          { ...at, schemaId },
        );
      }
      const version = writerVersion(writer.name, writer.canonical);
      return {
        schemaName: writer.name,
        schemaId,
        ...(version === undefined ? {} : { writerVersion: version }),
        value: decoded.value,
      };
    },
  };
}
