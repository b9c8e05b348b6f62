import { HubError } from '../../core/errors.ts';
import { COMPATIBILITY_ATTRIBUTE, declaredMode } from './registration-check.ts';
import { unknownId, unreachable } from './registry-errors.ts';
import type { AvroSchemaJson, RegisteredSchema, SchemaRegistry } from './types.ts';

export interface ConfluentRegistryOptions {
  /** Base URL of a Confluent-compatible Schema Registry (SCHEMA_REGISTRY_URL). */
  url: string;
  /** Basic-auth user (SCHEMA_REGISTRY_USERNAME), e.g. a Confluent Cloud API key. */
  username?: string;
  password?: string;
  /** Injected for tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
  /**
   * Before a subject's first registration from this process, set the subject's compatibility
   * level (PUT /config/{subject}) to the mode the schema declares in `tributary.compatibility`,
   * so the registry enforces the same rule `tributary schemas check` does
   * (SCHEMA_REGISTRY_APPLY_COMPATIBILITY=true). Off by default: it changes registry config.
   */
  applyCompatibility?: boolean;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** The compatibility mode a schema declares explicitly, if it does. */
function declaredModeIfAny(schema: AvroSchemaJson): string | undefined {
  if (typeof schema !== 'object' || Array.isArray(schema) || schema[COMPATIBILITY_ATTRIBUTE] === undefined)
    return undefined;
  return declaredMode(schema);
}

function schemaText(schema: AvroSchemaJson): string {
  return typeof schema === 'string' ? schema : JSON.stringify(schema);
}

interface RegistryErrorBody {
  error_code?: number;
  message?: string;
}

/**
 * Client of the Confluent Schema Registry REST API (also served by Redpanda, Karapace, Apicurio's
 * ccompat API). Ids and schemas are immutable, so both are cached for the process's life.
 */
export function createConfluentRegistry(options: ConfluentRegistryOptions): SchemaRegistry {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const headers: Record<string, string> = { Accept: CONTENT_TYPE, 'Content-Type': CONTENT_TYPE };
  if (options.username !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
  }
  const idsBySubjectAndText = new Map<string, number>();
  const schemasById = new Map<number, AvroSchemaJson>();
  const configured = new Set<string>();

  /** Calls the registry; resolves to undefined on 404 when `notFoundOk`. */
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
    notFoundOk = false,
  ): Promise<T | undefined> => {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw unreachable(`${method} ${path}`, err);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) return parsed as T;
    const info = (parsed ?? {}) as RegistryErrorBody;
    const detail = `${method} ${path}: HTTP ${res.status}${info.error_code ? ` (error ${info.error_code})` : ''}: ${info.message ?? text.slice(0, 200)}`;
    if (res.status === 404 && notFoundOk) return undefined;
    if (res.status >= 500)
      throw new HubError('SCHEMA_REGISTRY_ERROR', `schema registry failed: ${detail}`, { retriable: true });
    if (res.status === 401 || res.status === 403) {
      throw new HubError('SCHEMA_REGISTRY_AUTH', `schema registry refused credentials: ${detail}`, {
        hint: 'set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD',
      });
    }
    if (res.status === 409)
      throw new HubError('SCHEMA_INCOMPATIBLE', `schema registry: incompatible schema: ${detail}`);
    if (res.status === 422)
      throw new HubError('SCHEMA_REJECTED', `schema registry rejected the schema: ${detail}`);
    throw new HubError('SCHEMA_REGISTRY_ERROR', `schema registry: ${detail}`, { retriable: false });
  };

  const subjectPath = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;

  return {
    async register(subject, schema) {
      const text = schemaText(schema);
      const key = `${subject}\u0000${text}`;
      const cached = idsBySubjectAndText.get(key);
      if (cached !== undefined) return cached;
      const mode = typeof schema === 'string' ? undefined : declaredModeIfAny(schema);
      if (options.applyCompatibility && mode && !configured.has(subject)) {
        await call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: mode });
        configured.add(subject);
      }
      const res = await call<{ id: number }>('POST', `${subjectPath(subject)}/versions`, { schema: text });
      if (!res || typeof res.id !== 'number') {
        throw new HubError(
          'SCHEMA_REGISTRY_ERROR',
          `schema registry: POST ${subjectPath(subject)}/versions returned no id`,
        );
      }
      idsBySubjectAndText.set(key, res.id);
      schemasById.set(res.id, JSON.parse(text) as AvroSchemaJson);
      return res.id;
    },

    async getById(id) {
      const cached = schemasById.get(id);
      if (cached !== undefined) return cached;
      const res = await call<{ schema: string }>('GET', `/schemas/ids/${id}`, undefined, true);
      if (!res) throw unknownId(id);
      const schema = JSON.parse(res.schema) as AvroSchemaJson;
      schemasById.set(id, schema);
      return schema;
    },

    async latest(subject): Promise<RegisteredSchema | undefined> {
      const res = await call<{ id: number; version: number; schema: string }>(
        'GET',
        `${subjectPath(subject)}/versions/latest`,
        undefined,
        true,
      );
      if (!res) return undefined;
      const schema = JSON.parse(res.schema) as AvroSchemaJson;
      schemasById.set(res.id, schema);
      return { id: res.id, version: res.version, schema };
    },

    async versions(subject) {
      const res = await call<number[]>('GET', `${subjectPath(subject)}/versions`, undefined, true);
      return [...(res ?? [])].sort((a, b) => a - b);
    },
  };
}
