/**
 * Public surface of schemas/: the Avro catalog, the Confluent wire-format serde, schema registry
 * clients, compatibility checks and the generated payload types. Import from here only.
 *
 * - Files: `schemas/<domain>/<kebab-name>.v<N>.avsc`, a record `tributary.<domain>.<EventName>`
 *   with fields `envelope` ("tributary.common.Envelope") and `data`. Named types shared between
 *   files live in schemas/common (`tributary.common.*`); the loader inlines them at first use.
 * - Values: decimal = string ("12.50"), uuid = string, timestamp-millis = number (epoch ms),
 *   bytes/fixed = Buffer, unions unwrapped unless avsc must wrap them (see typegen.ts).
 * - Compatibility: BACKWARD unless the record declares `"tributary.compatibility": "<MODE>"`.
 * - After changing schemas: `tributary schemas check` and `tributary schemas types`.
 */

export type { EventData, EventName, EventTypes } from './generated/types.ts';
export type { CatalogScan, FileProblem } from './src/catalog.ts';
export {
  catalogFromEntries,
  defaultSchemasRoot,
  loadCatalog,
  SHARED_NAMESPACE,
  scanCatalog,
} from './src/catalog.ts';
export type { CatalogCheck } from './src/check-catalog.ts';
export {
  COMPATIBILITY_ATTRIBUTE,
  checkCatalog,
  compatibilityModeOf,
  DEFAULT_COMPATIBILITY,
} from './src/check-catalog.ts';
export type { CompatibilityMode, CompatibilityViolation, VersionedSchema } from './src/compatibility.ts';
export { COMPATIBILITY_MODES, checkCompatibility } from './src/compatibility.ts';
export type { ConfluentRegistryOptions } from './src/confluent-registry.ts';
export { createConfluentRegistry } from './src/confluent-registry.ts';
export type { EmbeddedRegistryOptions } from './src/embedded-registry.ts';
export { canonicalSchemaText, createEmbeddedRegistry, embeddedSchemaId } from './src/embedded-registry.ts';
export type { Envelope, EnvelopeFields, HubEvent } from './src/envelope.ts';
export { newEnvelope, newEvent } from './src/envelope.ts';
export { avroFieldToJsonSchema, avroToJsonSchema, type JsonSchema } from './src/json-schema.ts';
export { avscOptions } from './src/logical-types.ts';
export { registryFromEnv } from './src/registry-from-env.ts';
export type { DecodedEvent, EncodableValue, RecordLocation, Serde, SerdeOptions } from './src/serde.ts';
export { createSerde, SerdeError, topicNameStrategy } from './src/serde.ts';
export { generateTypes } from './src/typegen.ts';
export type {
  AvroSchemaJson,
  AvroSchemaObject,
  CatalogEntry,
  RegisteredSchema,
  RegisterOptions,
  SchemaCatalog,
  SchemaLog,
  SchemaRegistry,
} from './src/types.ts';
export { frame, HEADER_SIZE, MAGIC_BYTE, unframe } from './src/wire.ts';
