import avro from 'avsc';
import { HubError } from '../../core/errors.ts';
import { COMPATIBILITY_MODES, type CompatibilityMode, checkCompatibility } from './compatibility.ts';
import { avscOptions } from './logical-types.ts';
import type { AvroSchemaJson } from './types.ts';

/** The attribute a schema declares its compatibility mode with (see check-catalog.ts). */
export const COMPATIBILITY_ATTRIBUTE = 'tributary.compatibility';

/** Mode a schema JSON declares, BACKWARD when it declares none. */
export function declaredMode(schema: AvroSchemaJson): CompatibilityMode {
  const declared =
    typeof schema === 'object' && !Array.isArray(schema) ? schema[COMPATIBILITY_ATTRIBUTE] : undefined;
  return COMPATIBILITY_MODES.includes(declared as CompatibilityMode)
    ? (declared as CompatibilityMode)
    : 'BACKWARD';
}

/**
 * What a registry does on registration, as Confluent's does: refuse a schema that breaks the mode
 * it declares against the subject's earlier versions. Only versions with the same record name
 * count (one topic may carry several event types under TopicNameStrategy); versions ordered
 * after the new one are not checked.
 */
export function assertCompatibleRegistration(
  subject: string,
  schema: AvroSchemaJson,
  version: number,
  existing: Array<{ version: number; schema: AvroSchemaJson }>,
): void {
  const type = avro.Type.forSchema(schema as avro.Schema, avscOptions());
  const name = type.name ?? type.typeName;
  const earlier = existing
    .filter((e) => e.version < version)
    .sort((a, b) => a.version - b.version)
    .map((e) => ({ version: e.version, type: avro.Type.forSchema(e.schema as avro.Schema, avscOptions()) }))
    .filter((e) => e.type.name === type.name)
    .map((e) => ({ name, version: e.version, type: e.type }));
  const violations = checkCompatibility({ name, version, type }, earlier, declaredMode(schema));
  if (violations.length === 0) return;
  throw new HubError(
    'SCHEMA_INCOMPATIBLE',
    `schema for subject ${subject} breaks ${violations[0]?.mode} compatibility: ${violations.map((v) => v.message).join('; ')}`,
    {
      where: { subject, field: violations[0]?.path || undefined },
      hint: 'run `tributary schemas check`; give the field a default or publish under a new record name',
    },
  );
}
