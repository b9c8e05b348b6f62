import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AvroSchemaObject,
  catalogFromEntries,
  createConfluentRegistry,
  createSerde,
  registryFromEnv,
} from '../../schemas/index.ts';
import { avscOptions } from '../../schemas/src/logical-types.ts';
import { MemorySchemaLog } from './support/memory-log.ts';

/**
 * A small Schema Registry speaking the Confluent REST API over real HTTP: the endpoints the client
 * calls, with Confluent's status codes, error codes, content type and basic auth.
 */
function startRegistry(auth: { user: string; password: string }) {
  const schemas: string[] = []; // id - 1 -> schema text
  const subjects = new Map<string, number[]>(); // subject -> ids, version = index + 1
  const calls: string[] = [];
  const config = new Map<string, string>(); // subject -> compatibility level
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/vnd.schemaregistry.v1+json' });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    calls.push(`${req.method} ${req.url}`);
    const expected = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    if (req.headers.authorization !== expected)
      return send(res, 401, { error_code: 40101, message: 'Unauthorized' });
    let body = '';
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url ?? '/', 'http://registry');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'POST' && parts[0] === 'subjects' && parts[2] === 'versions' && parts.length === 3) {
      const { schema } = JSON.parse(body) as { schema: string };
      try {
        avro.Type.forSchema(JSON.parse(schema));
      } catch (err) {
        return send(res, 422, { error_code: 42201, message: `Invalid schema: ${(err as Error).message}` });
      }
      let id = schemas.indexOf(schema) + 1;
      if (id === 0) id = schemas.push(schema);
      const list = subjects.get(parts[1] ?? '') ?? [];
      if (!list.includes(id)) list.push(id);
      subjects.set(parts[1] ?? '', list);
      return send(res, 200, { id });
    }
    if (req.method === 'GET' && parts[0] === 'schemas' && parts[1] === 'ids') {
      const schema = schemas[Number(parts[2]) - 1];
      return schema
        ? send(res, 200, { schema })
        : send(res, 404, { error_code: 40403, message: 'Schema not found' });
    }
    if (req.method === 'GET' && parts[0] === 'subjects' && parts[2] === 'versions') {
      const list = subjects.get(parts[1] ?? '');
      if (!list) return send(res, 404, { error_code: 40401, message: `Subject '${parts[1]}' not found.` });
      if (parts.length === 3)
        return send(
          res,
          200,
          list.map((_, i) => i + 1),
        );
      if (parts[3] === 'latest') {
        const id = list.at(-1) as number;
        return send(res, 200, { subject: parts[1], id, version: list.length, schema: schemas[id - 1] });
      }
    }
    if (req.method === 'PUT' && parts[0] === 'config' && parts.length === 2) {
      const { compatibility } = JSON.parse(body) as { compatibility: string };
      config.set(parts[1] ?? '', compatibility);
      return send(res, 200, { compatibility });
    }
    if (url.pathname === '/boom')
      return send(res, 500, { error_code: 50001, message: 'Error in the backend datastore' });
    return send(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error_code: 50001, message: String(err) }));
  });
  return { server, calls, config };
}

describe('Confluent Schema Registry client (real HTTP)', () => {
  const auth = { user: 'hub', password: 's3cret' };
  let server: Server;
  let calls: string[];
  let config: Map<string, string>;
  let url: string;
  const schema: AvroSchemaObject = {
    type: 'record',
    name: 'Ping',
    namespace: 'tributary.test',
    fields: [{ name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }],
  };

  beforeAll(async () => {
    ({ server, calls, config } = startRegistry(auth));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('registers, looks up by id and subject, and caches immutable answers', async () => {
    const registry = createConfluentRegistry({ url, username: auth.user, password: auth.password });
    const id = await registry.register('pings-value', schema);
    expect(await registry.register('pings-value', schema)).toBe(id);
    expect(calls.filter((c) => c.startsWith('POST'))).toEqual(['POST /subjects/pings-value/versions']);
    expect(await registry.getById(id)).toEqual(schema);
    expect(calls.some((c) => c.startsWith('GET /schemas/ids'))).toBe(false); // known from register
    expect(
      await createConfluentRegistry({ url, username: auth.user, password: auth.password }).getById(id),
    ).toEqual(schema);
    expect(await registry.latest('pings-value')).toEqual({ id, version: 1, schema });
    expect(await registry.versions('pings-value')).toEqual([1]);
    expect(await registry.latest('nobody-value')).toBeUndefined();
    expect(await registry.versions('nobody-value')).toEqual([]);
    await expect(registry.getById(999)).rejects.toMatchObject({
      code: 'SCHEMA_ID_UNKNOWN',
      retriable: false,
    });
  });

  it('maps refusals and outages to HubErrors that say whether to retry', async () => {
    await expect(createConfluentRegistry({ url }).register('pings-value', schema)).rejects.toMatchObject({
      code: 'SCHEMA_REGISTRY_AUTH',
      retriable: false,
    });
    const registry = createConfluentRegistry({ url, username: auth.user, password: auth.password });
    await expect(
      registry.register('bad-value', '{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}'),
    ).rejects.toMatchObject({
      code: 'SCHEMA_REJECTED',
    });
    await expect(
      createConfluentRegistry({ url: `${url}boom#`, username: auth.user, password: auth.password }).versions(
        'x',
      ),
    ).rejects.toMatchObject({
      code: 'SCHEMA_REGISTRY_ERROR',
      retriable: true,
    });
  });

  it('carries serde records end to end with ids from the registry', async () => {
    const type = avro.Type.forSchema(schema as avro.Schema, avscOptions());
    const catalog = catalogFromEntries([
      { name: 'tributary.test.Ping', version: 1, file: 'ping.v1.avsc', schema, type },
    ]);
    const registry = createConfluentRegistry({ url, username: auth.user, password: auth.password });
    const serde = createSerde({ registry, catalog });
    const now = Date.now();
    const bytes = await serde.encode('pings', 'tributary.test.Ping', { at: now } as never);
    expect(bytes.readInt32BE(1)).toBe((await registry.latest('pings-value'))?.id);
    const reader = createSerde({
      registry: createConfluentRegistry({ url, username: auth.user, password: auth.password }),
      catalog,
    });
    const decoded = await reader.decode(bytes, { topic: 'pings', partition: 0, offset: '9' });
    expect(decoded).toMatchObject({
      schemaName: 'tributary.test.Ping',
      writerVersion: 1,
      value: { at: now },
    });
  });

  it('is the registry the hub picks when SCHEMA_REGISTRY_URL is set, the embedded one otherwise', async () => {
    const log = new MemorySchemaLog();
    const env = {
      SCHEMA_REGISTRY_URL: url,
      SCHEMA_REGISTRY_USERNAME: auth.user,
      SCHEMA_REGISTRY_PASSWORD: auth.password,
    };
    const before = calls.length;
    await registryFromEnv({ env, log }).register('env-value', schema);
    expect(calls.slice(before)).toEqual(['POST /subjects/env-value/versions']);
    expect(log.records).toHaveLength(0);
    await registryFromEnv({ env: {}, log }).register('env-value', schema);
    expect(log.records.map((r) => r.key.split(':')[0])).toEqual(['schema', 'subject']);
    expect(calls.length).toBe(before + 1);
  });

  it('sets a subject to the compatibility mode its schema declares when asked to', async () => {
    const full = { ...schema, 'tributary.compatibility': 'FULL_TRANSITIVE' };
    const creds = { username: auth.user, password: auth.password };
    await createConfluentRegistry({ url, ...creds }).register('plain-value', full);
    expect(config.has('plain-value')).toBe(false);
    const env = {
      SCHEMA_REGISTRY_URL: url,
      SCHEMA_REGISTRY_USERNAME: auth.user,
      SCHEMA_REGISTRY_PASSWORD: auth.password,
      SCHEMA_REGISTRY_APPLY_COMPATIBILITY: 'true',
    };
    await registryFromEnv({ env, log: new MemorySchemaLog() }).register('strict-value', full);
    expect(config.get('strict-value')).toBe('FULL_TRANSITIVE');
    await registryFromEnv({ env, log: new MemorySchemaLog() }).register('default-value', schema);
    expect(config.has('default-value')).toBe(false); // nothing declared: the registry's own default applies
  });
});
