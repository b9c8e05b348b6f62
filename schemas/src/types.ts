import type avro from 'avsc';

/** An Avro schema as JSON (what an .avsc file or a registry holds). */
export type AvroSchemaJson = string | AvroSchemaObject | AvroSchemaJson[];

/** An Avro schema object: a complex type, a named type or a primitive with attributes. */
export interface AvroSchemaObject {
  type: AvroSchemaJson;
  [attribute: string]: unknown;
}

/** One version of one schema in the catalog. */
export interface CatalogEntry {
  /** Avro full name, e.g. `tributary.crm.ContactChanged`. */
  name: string;
  /** From the file name (`contact-changed.v2.avsc` is version 2; no suffix is version 1). */
  version: number;
  /** Path of the .avsc file relative to the catalog root, with `/` separators. */
  file: string;
  /** Self-contained schema: `tributary.common.*` references are inlined at first use. */
  schema: AvroSchemaObject;
  /** The avsc type, built with the hub's logical types (see logical-types.ts). */
  type: avro.Type;
}

/** Every .avsc schema under a root folder, by full name and version. */
export interface SchemaCatalog {
  /** Full names, sorted. */
  names(): string[];
  /** Highest version of `name`; throws SCHEMA_UNKNOWN when absent. */
  latest(name: string): CatalogEntry;
  /** All versions of `name`, oldest first; throws SCHEMA_UNKNOWN when absent. */
  versions(name: string): CatalogEntry[];
  has(name: string): boolean;
}

/** A registered schema as a registry returns it. */
export interface RegisteredSchema {
  id: number;
  version: number;
  schema: AvroSchemaJson;
}

/** Options a caller may pass when registering (ignored by registries that can't use them). */
export interface RegisterOptions {
  /** The catalog version of the schema; the embedded registry orders subject versions by it. */
  version?: number;
}

/** A schema registry: Confluent-compatible over HTTP, or embedded over a compacted log. */
export interface SchemaRegistry {
  /** Registers `schema` under `subject` (idempotent) and returns its global id. */
  register(subject: string, schema: AvroSchemaJson, options?: RegisterOptions): Promise<number>;
  /** The schema with global id `id`; throws SCHEMA_ID_UNKNOWN when there is none. */
  getById(id: number): Promise<AvroSchemaJson>;
  /** The newest version registered under `subject`, or undefined when the subject is unknown. */
  latest(subject: string): Promise<RegisteredSchema | undefined>;
  /** Version numbers registered under `subject`, ascending ([] when unknown). */
  versions(subject: string): Promise<number[]>;
}

/**
 * A durable key/value log with compaction semantics (last value per key wins; null deletes).
 * platform/ implements it over the compacted topic `_tributary.schemas`.
 */
export interface SchemaLog {
  append(key: string, value: Buffer): Promise<void>;
  /** Every record from the start, in log order (after compaction some are gone). */
  readAll(): Promise<Array<{ key: string; value: Buffer | null }>>;
}
