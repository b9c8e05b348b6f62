import { type ErrorLocation, HubError } from '../../core/errors.ts';

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
