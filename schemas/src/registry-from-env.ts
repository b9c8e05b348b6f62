import { createConfluentRegistry } from './confluent-registry.ts';
import { createEmbeddedRegistry } from './embedded-registry.ts';
import type { SchemaLog, SchemaRegistry } from './types.ts';

/**
 * The registry the hub uses: Confluent-compatible when SCHEMA_REGISTRY_URL is set (with optional
 * SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD basic auth, and
 * SCHEMA_REGISTRY_APPLY_COMPATIBILITY=true to push each schema's declared mode), else the embedded registry over
 * `log` (platform/ passes the compacted `_tributary.schemas` topic).
 */
export function registryFromEnv(options: {
  env?: NodeJS.ProcessEnv;
  log: SchemaLog;
  fetch?: typeof fetch;
}): SchemaRegistry {
  const env = options.env ?? process.env;
  const url = env.SCHEMA_REGISTRY_URL?.trim();
  if (!url) return createEmbeddedRegistry({ log: options.log });
  return createConfluentRegistry({
    url,
    ...(env.SCHEMA_REGISTRY_USERNAME ? { username: env.SCHEMA_REGISTRY_USERNAME } : {}),
    ...(env.SCHEMA_REGISTRY_PASSWORD ? { password: env.SCHEMA_REGISTRY_PASSWORD } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    applyCompatibility: env.SCHEMA_REGISTRY_APPLY_COMPATIBILITY === 'true',
  });
}
