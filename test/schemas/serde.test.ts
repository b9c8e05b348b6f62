import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import avro from 'avsc';
import { beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import {
  type AvroSchemaObject,
  type CatalogEntry,
  catalogFromEntries,
  createConfluentRegistry,
  createEmbeddedRegistry,
  createSerde,
  loadCatalog,
  newEnvelope,
  type SchemaCatalog,
  type SchemaRegistry,
  SerdeError,
} from '../../schemas/index.ts';
import { avscOptions } from '../../schemas/src/logical-types.ts';
import { MemorySchemaLog } from './support/memory-log.ts';

const where = (offset: string) => ({ topic: `t-${randomUUID()}`, partition: 3, offset });

/** A catalog of hand-written schemas (built like the loader does), for exact-bytes tests. */
function catalogOf(schemas: Array<{ version: number; schema: AvroSchemaObject }>): SchemaCatalog {
  const entries: CatalogEntry[] = schemas.map(({ version, schema }) => {
    const type = avro.Type.forSchema(schema as avro.Schema, avscOptions());
    return { name: type.name ?? '', version, file: `test/${type.name}.v${version}.avsc`, schema, type };
  });
  return catalogFromEntries(entries);
}

async function expectSerdeError(promise: Promise<unknown>, code: string): Promise<SerdeError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SerdeError);
  expect((err as SerdeError).code).toBe(code);
  expect((err as SerdeError).retriable).toBe(false);
  return err as SerdeError;
}

describe('serde over the real catalog', () => {
  let catalog: SchemaCatalog;
  let registry: SchemaRegistry;

  beforeAll(async () => {
    catalog = await loadCatalog();
    registry = createEmbeddedRegistry({ log: new MemorySchemaLog() });
  });

  it('round-trips every schema, and a plain avsc reader built from the registry schema reads the bytes', async () => {
    const serde = createSerde({ registry, catalog });
    expect(catalog.names().length).toBeGreaterThan(3);
    for (const name of catalog.names()) {
      const entry = catalog.latest(name);
      for (let sample = 0; sample < 5; sample++) {
        const value = entry.type.random();
        const topic = `roundtrip.${name}`;
        const bytes = await serde.encode(topic, name, value as never);

        // Wire format by hand: magic byte 0, big-endian int32 id, Avro body.
        expect(bytes[0]).toBe(0);
        const id = bytes.readInt32BE(1);
        const writerSchema = await registry.getById(id);
        const plain = avro.Type.forSchema(writerSchema as avro.Schema); // no hub logical types
        const plainValue = plain.fromBuffer(bytes.subarray(5));
        expect(plain.isValid(plainValue)).toBe(true);
        expect(plain.toBuffer(plainValue)).toEqual(bytes.subarray(5));
        expect((await registry.latest(`${topic}-value`))?.id).toBe(id);

        const decoded = await serde.decode(bytes, { topic, partition: 0, offset: String(sample) });
        expect(decoded.schemaName).toBe(name);
        expect(decoded.schemaId).toBe(id);
        expect(decoded.writerVersion).toBe(entry.version);
        expect(entry.type.toBuffer(decoded.value)).toEqual(entry.type.toBuffer(value));
      }
    }
  });

  it('encodes an envelope built by newEnvelope and names the bad field when the value is wrong', async () => {
    const serde = createSerde({ registry, catalog });
    const name = 'tributary.ops.ComponentStatusChanged';
    const envelope = newEnvelope({ type: name, source: 'test', subject: 'connector.crm', actor: 'svc:test' });
    const data = { component: 'connector.crm', instance: 'i-1', status: 'RUNNING' as const, detail: null };
    const bytes = await serde.encode('ops.component.status', name, { envelope, data });
    const decoded = await serde.decode(bytes, where('0'));
    expect(decoded.value).toMatchObject({
      envelope: { ...envelope },
      data: { ...data, hubVersion: 'unknown', since: null },
    });

    const bad = await expectSerdeError(
      serde.encode('ops.component.status', name, {
        envelope,
        data: { ...data, status: 'EXPLODED' },
      } as never),
      'SERDE_INVALID',
    );
    expect(bad.where.field).toBe('data.status');
    expect(bad.message).toContain('data.status');
    const invented = await expectSerdeError(
      serde.encode('ops.component.status', name, { envelope, data: { ...data, colour: 'red' } } as never),
      'SERDE_INVALID',
    );
    expect(invented.where.field).toBe('data.colour');
    const badUuid = await expectSerdeError(
      serde.encode('ops.component.status', name, {
        envelope: { ...envelope, id: 'not-a-uuid' },
        data,
      } as never),
      'SERDE_INVALID',
    );
    expect(badUuid.where.field).toBe('envelope.id');
    await expectSerdeError(serde.encode('x', 'tributary.nope.Missing', {} as never), 'SERDE_UNKNOWN_SCHEMA');
  });
});

describe('serde wire format and decode errors', () => {
  const v1: AvroSchemaObject = {
    type: 'record',
    name: 'Thing',
    namespace: 'tributary.test',
    fields: [
      { name: 'n', type: 'int' },
      { name: 's', type: 'string' },
    ],
  };

  it('writes exactly the Confluent framing: 0x00, big-endian id, Avro binary body', async () => {
    const registry = createEmbeddedRegistry({ log: new MemorySchemaLog() });
    const serde = createSerde({ registry, catalog: catalogOf([{ version: 1, schema: v1 }]) });
    const bytes = await serde.encode('things', 'tributary.test.Thing', { n: 1, s: 'hi' } as never);
    const id = (await registry.latest('things-value'))?.id ?? -1;
    const expected = Buffer.alloc(5);
    expected.writeInt32BE(id, 1);
    // int 1 -> zigzag 0x02; string "hi" -> length 2 zigzag 0x04, then the bytes.
    expect(bytes).toEqual(Buffer.concat([expected, Buffer.from([0x02, 0x04, 0x68, 0x69])]));
  });

  it('gives typed errors naming topic, partition and offset', async () => {
    const registry = createEmbeddedRegistry({ log: new MemorySchemaLog() });
    const serde = createSerde({ registry, catalog: catalogOf([{ version: 1, schema: v1 }]) });
    const good = await serde.encode('things', 'tributary.test.Thing', { n: 7, s: 'hello' } as never);

    const at = where('42');
    const garbage = await expectSerdeError(
      serde.decode(Buffer.from('{"json":"not avro"}'), at),
      'SERDE_BAD_MAGIC',
    );
    expect(garbage.where).toMatchObject(at);
    expect(garbage.message).toContain('magic');

    const header = await expectSerdeError(serde.decode(good.subarray(0, 3), at), 'SERDE_TRUNCATED');
    expect(header.where).toMatchObject(at);
    const body = await expectSerdeError(
      serde.decode(good.subarray(0, good.length - 2), at),
      'SERDE_TRUNCATED',
    );
    expect(body.where).toMatchObject(at);

    const unknown = Buffer.from(good);
    unknown.writeInt32BE(123456, 1);
    const missing = await expectSerdeError(serde.decode(unknown, at), 'SERDE_UNKNOWN_SCHEMA_ID');
    expect(missing.where).toMatchObject({ ...at, schemaId: 123456 });

    const trailing = await expectSerdeError(
      serde.decode(Buffer.concat([good, Buffer.from([1, 2])]), at),
      'SERDE_CORRUPT',
    );
    expect(trailing.where).toMatchObject(at);
  });

  it('resolves an older writer to the latest reader, and refuses a writer it cannot read, naming the field', async () => {
    const registry = createEmbeddedRegistry({ log: new MemorySchemaLog() });
    const oldSerde = createSerde({ registry, catalog: catalogOf([{ version: 1, schema: v1 }]) });
    const v2: AvroSchemaObject = {
      ...v1,
      fields: [
        { name: 'n', type: 'long' },
        { name: 's', type: 'string' },
        { name: 'flag', type: 'boolean', default: true },
      ],
    };
    const newSerde = createSerde({
      registry,
      catalog: catalogOf([
        { version: 1, schema: v1 },
        { version: 2, schema: v2 },
      ]),
    });
    const old = await oldSerde.encode('things', 'tributary.test.Thing', { n: 5, s: 'x' } as never);
    const decoded = await newSerde.decode(old, where('1'));
    expect(decoded.writerVersion).toBe(1);
    expect(decoded.value).toMatchObject({ n: 5, s: 'x', flag: true });

    // A producer elsewhere changed `s` to an int under the same name: the reader can't resolve it.
    const foreign = createSerde({
      registry,
      catalog: catalogOf([
        {
          version: 9,
          schema: {
            ...v1,
            fields: [
              { name: 'n', type: 'int' },
              { name: 's', type: 'int' },
            ],
          },
        },
      ]),
    });
    // (Under another subject: the registry itself refuses the change on 'things-value'.)
    const bytes = await foreign.encode('things.elsewhere', 'tributary.test.Thing', { n: 1, s: 2 } as never);
    await expect(
      foreign.encode('things', 'tributary.test.Thing', { n: 1, s: 2 } as never),
    ).rejects.toMatchObject({
      code: 'SCHEMA_INCOMPATIBLE',
      where: { topic: 'things', field: 's' },
    });
    const at = where('77');
    const err = await expectSerdeError(newSerde.decode(bytes, at), 'SERDE_UNRESOLVABLE');
    expect(err.where).toMatchObject(at);
    expect(err.message).toContain('field s');
  });

  it('represents decimal as a lossless string and uuid as a string', async () => {
    const schema: AvroSchemaObject = {
      type: 'record',
      name: 'Money',
      namespace: 'tributary.test',
      fields: [
        { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 20, scale: 2 } },
        {
          name: 'fixedAmount',
          type: { type: 'fixed', name: 'Amount8', size: 8, logicalType: 'decimal', precision: 18, scale: 4 },
        },
        { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
      ],
    };
    const registry = createEmbeddedRegistry({ log: new MemorySchemaLog() });
    const serde = createSerde({ registry, catalog: catalogOf([{ version: 1, schema }]) });
    const id = randomUUID();
    for (const [amount, expected] of [
      ['123456789012345678.91', '123456789012345678.91'],
      ['-0.5', '-0.50'],
      ['-128', '-128.00'],
      ['0', '0.00'],
    ] as const) {
      const bytes = await serde.encode('money', 'tributary.test.Money', {
        amount,
        fixedAmount: '-1.0001',
        id,
      } as never);
      const { value } = await serde.decode(bytes, where('0'));
      expect(value).toMatchObject({ amount: expected, fixedAmount: '-1.0001', id });
    }
    // More fraction digits than the scale would lose money: refused, naming the field.
    const err = await expectSerdeError(
      serde.encode('money', 'tributary.test.Money', { amount: '1.005', fixedAmount: '0', id } as never),
      'SERDE_INVALID',
    );
    expect(err.where.field).toBe('amount');
    // Plain avsc (Java/Python alike) sees two's-complement unscaled bytes: -0.50 -> -50 -> 0xce.
    const bytes = await serde.encode('money', 'tributary.test.Money', {
      amount: '-0.5',
      fixedAmount: '0',
      id,
    } as never);
    const plain = avro.Type.forSchema((await registry.getById(bytes.readInt32BE(1))) as avro.Schema);
    expect(plain.fromBuffer(bytes.subarray(5)).amount).toEqual(Buffer.from([0xce]));
  });

  it('passes registry outages on as retriable errors with the record location', async () => {
    // A real HTTP client against a port nobody listens on.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const registry = createConfluentRegistry({ url: `http://127.0.0.1:${port}` });
    const serde = createSerde({ registry, catalog: catalogOf([{ version: 1, schema: v1 }]) });
    const at = where('5');
    const err = await serde
      .decode(Buffer.from([0, 0, 0, 0, 1, 2, 2]), at)
      .catch((e: unknown) => e as HubError);
    expect(err).toBeInstanceOf(HubError);
    expect(err).toMatchObject({ code: 'SCHEMA_REGISTRY_UNREACHABLE', retriable: true });
    expect((err as HubError).where).toMatchObject(at);
  });
});
