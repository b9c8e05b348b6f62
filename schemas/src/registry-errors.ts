import { HubError } from '../../core/errors.ts';

/**
 * Registry error codes (all HubError):
 * - SCHEMA_REGISTRY_UNREACHABLE (retriable): the registry or its log could not be reached.
 * - SCHEMA_REGISTRY_ERROR (retriable): the registry answered 5xx.
 * - SCHEMA_REGISTRY_AUTH: 401/403; check SCHEMA_REGISTRY_USERNAME / _PASSWORD.
 * - SCHEMA_ID_UNKNOWN: no schema has that id (`where.schemaId`).
 * - SCHEMA_INCOMPATIBLE: the registry refused a schema as incompatible with the subject (409).
 * - SCHEMA_REJECTED: the registry refused the schema as invalid (422) or it doesn't parse.
 * - SCHEMA_ID_COLLISION: two different schemas hash to one embedded id (never expected; fail loudly).
 */
export function unreachable(what: string, cause: unknown): HubError {
  return new HubError(
    'SCHEMA_REGISTRY_UNREACHABLE',
    `schema registry unreachable: ${what}: ${(cause as Error)?.message ?? cause}`,
    {
      retriable: true,
      cause,
      hint: 'check SCHEMA_REGISTRY_URL (or the Kafka brokers for the embedded registry) and retry',
    },
  );
}

export function unknownId(id: number): HubError {
  return new HubError('SCHEMA_ID_UNKNOWN', `no schema registered with id ${id}`, {
    where: { schemaId: id },
    hint: 'the producer used another registry, or the registry lost its state',
  });
}
