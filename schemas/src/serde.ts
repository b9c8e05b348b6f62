import './avsc-guards.ts';
import avro from 'avsc';
import canonicalize from 'canonicalize';
import { type ErrorLocation, HubError } from '../../core/errors.ts';
import type { EventTypes } from '../generated/types.ts';
import { explainUnresolvable } from './compatibility.ts';
import { avscOptions } from './logical-types.ts';
import { type EncodeTarget, encodeTargets, slowEncode } from './serde-encode.ts';
import { SerdeError } from './serde-error.ts';
import { createFrameWriter } from './strict-writer.ts';
import type { AvroSchemaJson, SchemaCatalog, SchemaRegistry } from './types.ts';
import { unframe, writeHeader } from './wire.ts';

export { SerdeError };

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
  /**
   * `encode` without a promise once the schema's registry id is known (the usual case after a
   * topic's first event); undefined before that, when only `encode` can register it.
   */
  encodeReady?<N extends string>(topic: string, schemaName: N, value: EncodableValue<N>): Buffer | undefined;
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
  const writerInfos = new Map<number, Promise<WriterInfo>>();
  const resolvers = new Map<number, unknown>();
  const catalogCanonical = new Map<string, number | undefined>();
  /** Catalog version per writer schema id, once found (looked up again while not found). */
  const versionById = new Map<number, number>();

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
    let pending = writerInfos.get(id);
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
      writerInfos.set(id, pending);
      // A failed lookup must not stick: the registry may learn the id later.
      pending.catch(() => writerInfos.delete(id));
    }
    return pending;
  };

  const targetFor = encodeTargets(catalog, subjectFor);
  const writeFramed = createFrameWriter();

  /** The value's bytes after room for the header; throws SERDE_INVALID naming the bad fields. */
  const body = (topic: string, schemaName: string, target: EncodeTarget, value: unknown): Buffer => {
    try {
      // Validates while it writes: throws for exactly the values the strict isValid rejects.
      return writeFramed(target.writer, value);
    } catch {
      return slowEncode(topic, schemaName, target.entry, value);
    }
  };

  return {
    encodeReady(topic, schemaName, value) {
      const target = targetFor(topic, schemaName);
      if (target.schemaId === undefined) return undefined;
      return writeHeader(body(topic, schemaName, target, value), target.schemaId);
    },

    async encode(topic, schemaName, value) {
      const target = targetFor(topic, schemaName);
      const { entry } = target;
      const framed = body(topic, schemaName, target, value);
      let schemaId = target.schemaId;
      if (schemaId === undefined) {
        const { subject, key } = target;
        let id = ids.get(key);
        if (!id) {
          id = registry.register(subject, entry.schema, { version: entry.version });
          ids.set(key, id);
          id.catch(() => ids.delete(key));
        }
        try {
          schemaId = await id;
        } catch (err) {
          throw withWhere(err, { topic, subject, schema: schemaName });
        }
        target.schemaId = schemaId;
      }
      return writeHeader(framed, schemaId);
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
      let version = versionById.get(schemaId);
      if (version === undefined) {
        version = writerVersion(writer.name, writer.canonical);
        if (version !== undefined) versionById.set(schemaId, version);
      }
      return {
        schemaName: writer.name,
        schemaId,
        ...(version === undefined ? {} : { writerVersion: version }),
        value: decoded.value,
      };
    },
  };
}
