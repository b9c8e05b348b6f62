import { createHash } from 'node:crypto';
import avro from 'avsc';
import canonicalize from 'canonicalize';
import { HubError } from '../../core/errors.ts';
import { avscOptions } from './logical-types.ts';
import { assertCompatibleRegistration } from './registration-check.ts';
import { unknownId, unreachable } from './registry-errors.ts';
import type { AvroSchemaJson, RegisteredSchema, SchemaLog, SchemaRegistry } from './types.ts';

/**
 * Embedded schema registry over a compacted log (`_tributary.schemas`), so several hub processes
 * agree on ids with no registry server.
 *
 * Design, chosen so that the state is a pure function of "last value per key" — exactly what log
 * compaction keeps — and therefore identical before and after compaction, in every process:
 * - Schema id = the first 31 bits of SHA-256 over the schema's RFC 8785 canonical JSON, made
 *   positive. Every process computes the same id without coordination. We hash the full JSON,
 *   not Avro's Parsing Canonical Form, because the PCF drops logical types and defaults: a bytes
 *   field and a decimal(10,2) field would share an id and readers would decode one as the other.
 *   A different schema already stored under the computed id is a collision: SCHEMA_ID_COLLISION.
 * - Record `schema:<id>` -> canonical schema JSON. Written once per id; rewriting is harmless.
 * - Record `subject:<subject>:<id>` -> {"version": n, "registeredAt": ms}. `n` is the caller's
 *   version hint (the serde passes the catalog version) or, without one, 1 + the highest version
 *   the registering process sees after re-reading the log. Versions are ordered by (n, id), and a
 *   tie (two processes racing to add different schemas without hints) is broken by id and
 *   renumbered n+1, so all processes still agree.
 * - A new subject version must keep the compatibility mode its schema declares (attribute
 *   `tributary.compatibility`, default BACKWARD) against earlier versions of the same record.
 * - State is reloaded from the log when asked about an id this process doesn't know, before a
 *   new subject record is written, and on every latest()/versions() call (rare, must be fresh).
 */
export interface EmbeddedRegistryOptions {
  log: SchemaLog;
  /**
   * Refuse (SCHEMA_INCOMPATIBLE) a new subject version that breaks the compatibility mode the
   * schema declares against earlier versions of the same record, as Confluent's registry does.
   * Default true.
   */
  enforceCompatibility?: boolean;
}

interface SubjectRecord {
  id: number;
  version: number;
}

interface State {
  schemas: Map<number, string>;
  subjects: Map<string, SubjectRecord[]>;
}

/** The embedded schema id of a canonical schema text. */
export function embeddedSchemaId(canonicalText: string): number {
  const digest = createHash('sha256').update(canonicalText).digest();
  return digest.readUInt32BE(0) & 0x7fffffff || 1;
}

/** RFC 8785 canonical text of a schema, after checking it is valid Avro. */
export function canonicalSchemaText(schema: AvroSchemaJson): string {
  const json = typeof schema === 'string' ? (JSON.parse(schema) as unknown) : schema;
  try {
    avro.Type.forSchema(json as avro.Schema, avscOptions());
  } catch (err) {
    throw new HubError('SCHEMA_REJECTED', `not a valid Avro schema: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return canonicalize(json) as string;
}

function buildState(records: Array<{ key: string; value: Buffer | null }>): State {
  const last = new Map<string, Buffer>();
  for (const r of records) {
    if (r.value === null) last.delete(r.key);
    else last.set(r.key, r.value);
  }
  const schemas = new Map<number, string>();
  const raw = new Map<string, SubjectRecord[]>();
  for (const [key, value] of last) {
    if (key.startsWith('schema:')) {
      schemas.set(Number(key.slice('schema:'.length)), value.toString('utf8'));
    } else if (key.startsWith('subject:')) {
      const rest = key.slice('subject:'.length);
      const cut = rest.lastIndexOf(':');
      const subject = rest.slice(0, cut);
      const id = Number(rest.slice(cut + 1));
      const { version } = JSON.parse(value.toString('utf8')) as { version: number };
      raw.set(subject, [...(raw.get(subject) ?? []), { id, version }]);
    }
  }
  const subjects = new Map<string, SubjectRecord[]>();
  for (const [subject, list] of raw) subjects.set(subject, orderVersions(list));
  return { schemas, subjects };
}

/** Orders a subject's records by (stored version, id) and renumbers ties so versions are unique. */
function orderVersions(list: SubjectRecord[]): SubjectRecord[] {
  let previous = 0;
  return [...list]
    .sort((a, b) => a.version - b.version || a.id - b.id)
    .map((r) => {
      previous = Math.max(r.version, previous + 1);
      return { id: r.id, version: previous };
    });
}

/** A SchemaRegistry whose state lives in a compacted log (see the design note above). */
export function createEmbeddedRegistry(options: EmbeddedRegistryOptions): SchemaRegistry {
  const { log } = options;
  let state: State | undefined;
  let loading: Promise<State> | undefined;

  const reload = (): Promise<State> => {
    loading ??= log
      .readAll()
      .then((records) => {
        state = buildState(records);
        return state;
      })
      .catch((err: unknown) => {
        throw unreachable('reading the schema log', err);
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };
  const current = async (): Promise<State> => state ?? (await reload());
  const append = async (key: string, value: string): Promise<void> => {
    try {
      await log.append(key, Buffer.from(value, 'utf8'));
    } catch (err) {
      throw unreachable(`appending ${key} to the schema log`, err);
    }
  };

  /** Writes `schema:<id>` unless present; `s` is state the caller just re-read from the log. */
  const storeSchema = async (text: string, s: State): Promise<number> => {
    const id = embeddedSchemaId(text);
    const stored = s.schemas.get(id);
    if (stored !== undefined && stored !== text) {
      throw new HubError('SCHEMA_ID_COLLISION', `two different schemas hash to embedded id ${id}`, {
        where: { schemaId: id },
        hint: 'change the new schema slightly (e.g. its doc) or use a Confluent-compatible registry',
      });
    }
    if (stored === undefined) {
      await append(`schema:${id}`, text);
      s.schemas.set(id, text);
    }
    return id;
  };

  return {
    async register(subject, schema, registerOptions = {}) {
      const text = canonicalSchemaText(schema);
      const known = (st: State) => st.subjects.get(subject)?.some((r) => r.id === embeddedSchemaId(text));
      let s = await current();
      if (!known(s)) s = await reload();
      if (known(s)) return storeSchema(text, s);
      const existing = s.subjects.get(subject) ?? [];
      const version = registerOptions.version ?? Math.max(0, ...existing.map((r) => r.version)) + 1;
      if (options.enforceCompatibility ?? true) {
        const earlier = existing.flatMap((r) => {
          const stored = s.schemas.get(r.id);
          return stored === undefined
            ? []
            : [{ version: r.version, schema: JSON.parse(stored) as AvroSchemaJson }];
        });
        assertCompatibleRegistration(subject, JSON.parse(text) as AvroSchemaJson, version, earlier);
      }
      const id = await storeSchema(text, s);
      await append(`subject:${subject}:${id}`, JSON.stringify({ version, registeredAt: Date.now() }));
      // Re-read rather than patch local state: the order then comes from the same function of the
      // log that every other process computes (a rare call; the serde caches ids).
      await reload();
      return id;
    },

    async getById(id) {
      let text = (await current()).schemas.get(id);
      if (text === undefined) text = (await reload()).schemas.get(id);
      if (text === undefined) throw unknownId(id);
      return JSON.parse(text) as AvroSchemaJson;
    },

    // latest() and versions() always re-read the log: they are rare calls and must see other processes.
    async latest(subject): Promise<RegisteredSchema | undefined> {
      const s = await reload();
      const last = s.subjects.get(subject)?.at(-1);
      if (!last) return undefined;
      const text = s.schemas.get(last.id);
      if (text === undefined) throw unknownId(last.id);
      return { id: last.id, version: last.version, schema: JSON.parse(text) as AvroSchemaJson };
    },

    async versions(subject) {
      const s = await reload();
      return (s.subjects.get(subject) ?? []).map((r) => r.version);
    },
  };
}
