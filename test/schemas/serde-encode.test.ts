import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import { beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import {
  type AvroSchemaObject,
  type CatalogEntry,
  catalogFromEntries,
  createEmbeddedRegistry,
  createSerde,
  loadCatalog,
  newEvent,
  type SchemaCatalog,
  SerdeError,
} from '../../schemas/index.ts';
import { avscOptions } from '../../schemas/src/logical-types.ts';
import { MemorySchemaLog } from './support/memory-log.ts';

/**
 * The serde's one-pass encode (strict-writer.ts): the same bytes as the catalog type's toBuffer,
 * and for a bad value the same SERDE_INVALID naming the field as the validation it replaced.
 */

function catalogOf(schema: AvroSchemaObject): { catalog: SchemaCatalog; entry: CatalogEntry } {
  const type = avro.Type.forSchema(schema as avro.Schema, avscOptions());
  const entry = { name: type.name ?? '', version: 1, file: 'test/x.v1.avsc', schema, type };
  return { catalog: catalogFromEntries([entry]), entry };
}

async function refusal(promise: Promise<unknown>): Promise<SerdeError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SerdeError);
  expect((err as SerdeError).code).toBe('SERDE_INVALID');
  return err as SerdeError;
}

const decimal = (precision: number, scale: number) => ({
  type: 'bytes',
  logicalType: 'decimal',
  precision,
  scale,
});

const order: AvroSchemaObject = {
  type: 'record',
  name: 'Order',
  namespace: 'tributary.test',
  fields: [
    { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'amount', type: decimal(10, 2) },
    { name: 'discount', type: ['null', decimal(6, 2)], default: null },
    {
      name: 'lines',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Line',
          fields: [
            { name: 'sku', type: 'string' },
            {
              name: 'price',
              type: {
                type: 'fixed',
                name: 'Price2',
                size: 2,
                logicalType: 'decimal',
                precision: 6,
                scale: 2,
              },
            },
            { name: 'qty', type: 'int' },
          ],
        },
      },
    },
    {
      name: 'options',
      type: {
        type: 'record',
        name: 'Options',
        fields: [
          { name: 'gift', type: 'boolean', default: false },
          { name: 'note', type: ['null', 'string'], default: null },
        ],
      },
    },
    { name: 'tags', type: { type: 'map', values: 'string' }, default: {} },
  ],
};

describe('serde encode in one pass', () => {
  let catalog: SchemaCatalog;

  beforeAll(async () => {
    catalog = await loadCatalog();
  });

  it('writes the catalog type’s bytes for random values of every schema and a 1 KB sales order', async () => {
    const registry = createEmbeddedRegistry({ log: new MemorySchemaLog() });
    const serde = createSerde({ registry, catalog });
    for (const name of catalog.names()) {
      const entry = catalog.latest(name);
      for (let sample = 0; sample < 20; sample += 1) {
        const value = entry.type.random();
        const bytes = await serde.encode(`exact.${name}`, name, value as never);
        expect(bytes.readInt32BE(1)).toBe((await registry.latest(`exact.${name}-value`))?.id);
        expect(bytes.subarray(5), name).toEqual(entry.type.toBuffer(value));
      }
    }
    const now = Date.UTC(2026, 10, 24);
    const salesOrder = newEvent(
      'tributary.erp.SalesOrderChanged',
      { source: 'connector.erp', subject: 'SO-1', actor: 'svc@test', correlationId: randomUUID(), time: now },
      {
        orderId: 'SO-1',
        customerId: 'C-000001',
        status: 'OPEN',
        currency: 'EUR',
        netAmount: '-1249.5',
        orderDate: 20_000,
        items: Array.from({ length: 24 }, (_, i) => ({
          line: (i + 1) * 10,
          product: `MAT-${String(1000 + i).padStart(6, '0')}-STEEL-BOLT-M8`,
          quantity: `${1 + (i % 7)}.000`,
          unitPrice: `${i % 2 ? '-' : ''}${10 ** (i % 12) + i}.25`,
        })),
        etag: 'W/"1"',
        modifiedAt: now,
      },
    );
    const name = 'tributary.erp.SalesOrderChanged';
    const bytes = await serde.encode('erp.sales-order.changed', name, salesOrder);
    expect(bytes.length).toBeGreaterThan(1024);
    expect(bytes.subarray(5)).toEqual(catalog.latest(name).type.toBuffer(salesOrder));
    const decoded = await serde.decode(bytes, {
      topic: 'erp.sales-order.changed',
      partition: 0,
      offset: '0',
    });
    expect(decoded.value).toMatchObject({ data: { netAmount: '-1249.50', items: expect.any(Array) } });
  });

  it('refuses bad values naming the field path, as the full validation does', async () => {
    const { catalog: own, entry } = catalogOf(order);
    const serde = createSerde({
      registry: createEmbeddedRegistry({ log: new MemorySchemaLog() }),
      catalog: own,
    });
    const good = {
      id: randomUUID(),
      amount: '12.5',
      discount: '-0.5',
      lines: [
        { sku: 'a', price: '9.99', qty: 1 },
        { sku: 'b', price: '-327.68', qty: 2 },
      ],
      options: { gift: true, note: null },
      tags: { k: 'v' },
    };
    const line = (i: number, patch: object) => good.lines.map((l, j) => (j === i ? { ...l, ...patch } : l));
    const cases: Array<[string, object, string, string]> = [
      ['non-zero digits beyond the scale', { amount: '1.005' }, 'amount', '"1.005"'],
      ['more digits than the precision', { amount: '123456789.00' }, 'amount', '"123456789.00"'],
      ['not a number', { amount: '12,50' }, 'amount', '"12,50"'],
      ['a number instead of a string', { amount: 12.5 }, 'amount', '12.5'],
      ['a decimal in a union', { discount: '10000.00' }, 'discount', '"10000.00"'],
      [
        'too many digits in an array item',
        { lines: line(1, { price: '1.001' }) },
        'lines.1.price',
        '"1.001"',
      ],
      ['does not fit a fixed(2)', { lines: line(0, { price: '327.68' }) }, 'lines.0.price', '"327.68"'],
      [
        'a field the schema does not declare',
        { lines: line(1, { colour: 'red' }) },
        'lines.1.colour',
        'is not a field',
      ],
      ['a record that is not an object', { options: 'gift' }, 'options', '"gift"'],
      ['a null record', { options: null }, 'options', 'null'],
      ['an undeclared top-level field', { colour: 'red' }, 'colour', 'is not a field'],
      ['a uuid that is not one', { id: 'nope' }, 'id', '"nope"'],
      ['a uuid with a dash out of place', { id: '0123456-78901-2345-6789-0123456789ab' }, 'id', '"0123456-'],
      ['a uuid with a letter past f', { id: '01234567-89ab-cdef-0123-456789abcdeg' }, 'id', '"01234567-'],
      ['a uuid one digit short', { id: '01234567-89ab-cdef-0123-456789abcde' }, 'id', '"01234567-'],
      ['a uuid with a non-ASCII digit', { id: '01234567-89ab-cdef-0123-456789abcde١' }, 'id', '"01234567-'],
      ['a wrong map value', { tags: { k: 1 } }, 'tags.k', '1'],
    ];
    for (const [why, patch, field, shown] of cases) {
      const value = { ...good, ...patch };
      // The reference verdict: the catalog type's strict check.
      expect(entry.type.isValid(value, { noUndeclaredFields: true }), why).toBe(false);
      const err = await refusal(serde.encode('orders', 'tributary.test.Order', value as never));
      expect(err.where, why).toMatchObject({ topic: 'orders', schema: 'tributary.test.Order', field });
      expect(err.message, why).toContain(`${field}: ${shown}`);
    }
    // A half-written bad value leaves nothing behind: the good one still encodes exactly.
    const bytes = await serde.encode('orders', 'tributary.test.Order', good as never);
    expect(bytes.subarray(5)).toEqual(entry.type.toBuffer(good));
    // An upper-case uuid is one too (RFC 9562 reads either case).
    const upper = { ...good, id: randomUUID().toUpperCase() };
    const upperBytes = await serde.encode('orders', 'tributary.test.Order', upper as never);
    expect(upperBytes.subarray(5)).toEqual(entry.type.toBuffer(upper));
    // A record with an inherited enumerable field: avsc's own check decides (it looks at own
    // fields only), and the bytes are the catalog type's.
    const inherited = { ...good, options: Object.assign(Object.create({ colour: 'red' }), good.options) };
    expect(entry.type.isValid(inherited, { noUndeclaredFields: true })).toBe(true);
    const inheritedBytes = await serde.encode('orders', 'tributary.test.Order', inherited as never);
    expect(inheritedBytes.subarray(5)).toEqual(entry.type.toBuffer(inherited));
    // Defaults still apply to fields left out, as before.
    const { discount: _d, tags: _t, ...without } = good;
    const short = await serde.encode('orders', 'tributary.test.Order', without as never);
    expect(short.subarray(5)).toEqual(entry.type.toBuffer(without));
  });

  it('checks the value before the registry: a bad value is SERDE_INVALID even when registration fails', async () => {
    const log = new MemorySchemaLog();
    let failures = 1;
    const flaky = Object.assign(Object.create(log) as MemorySchemaLog, {
      append: async (key: string, value: Buffer) => {
        if (failures-- > 0) throw new Error('log unavailable');
        return log.append(key, value);
      },
    });
    const { catalog: own } = catalogOf(order);
    const serde = createSerde({ registry: createEmbeddedRegistry({ log: flaky }), catalog: own });
    const value = { id: randomUUID(), amount: '1', lines: [], options: {}, tags: {} };
    await refusal(serde.encode('orders', 'tributary.test.Order', { ...value, amount: 'x' } as never));
    const outage = await serde
      .encode('orders', 'tributary.test.Order', value as never)
      .catch((e: unknown) => e);
    expect(outage).toBeInstanceOf(HubError);
    expect(outage).not.toBeInstanceOf(SerdeError);
    expect((outage as HubError).where).toMatchObject({ topic: 'orders', subject: 'orders-value' });
    // The failed registration is not kept: the next encode registers and frames with the id.
    const bytes = await serde.encode('orders', 'tributary.test.Order', value as never);
    expect(bytes.readInt32BE(1)).toBe((await createEmbeddedRegistry({ log }).latest('orders-value'))?.id);
  });

  it('writes strings of every kind as avsc does (short ASCII ones take a one-pass write)', async () => {
    const { catalog: own, entry } = catalogOf({
      type: 'record',
      name: 'Texts',
      namespace: 'tributary.test',
      fields: [
        { name: 'plain', type: 'string' },
        { name: 'maybe', type: ['null', 'string'], default: null },
        { name: 'list', type: { type: 'array', items: { type: 'string' } } },
        { name: 'byKey', type: { type: 'map', values: 'string' } },
      ],
    });
    const serde = createSerde({
      registry: createEmbeddedRegistry({ log: new MemorySchemaLog() }),
      catalog: own,
    });
    const texts = [
      '',
      'a',
      'x'.repeat(63),
      'x'.repeat(64),
      'x'.repeat(200),
      '\u007f',
      'caf\u00e9',
      'na\u00efve-but-long-enough-to-matter-'.repeat(3),
      '\u{1f600} emoji',
      'lone \ud800 surrogate',
      '\u4e2d\u6587',
      `${'y'.repeat(62)}\u00e9`,
    ];
    for (const text of texts) {
      const value = { plain: text, maybe: text, list: [text, 'ok', text], byKey: { [text]: text } };
      const bytes = await serde.encode('texts', 'tributary.test.Texts', value as never);
      expect(bytes.subarray(5), JSON.stringify(text)).toEqual(entry.type.toBuffer(value));
      const decoded = await serde.decode(bytes, { topic: 'texts', partition: 0, offset: '0' });
      expect(decoded.value, JSON.stringify(text)).toEqual(entry.type.fromBuffer(entry.type.toBuffer(value)));
    }
    const err = await refusal(
      serde.encode('texts', 'tributary.test.Texts', { plain: 5, list: [], byKey: {} } as never),
    );
    expect(err.where.field).toBe('plain');
  });

  it('frames large values and concurrent first encodes, each with its own bytes', async () => {
    const { catalog: own, entry } = catalogOf({
      type: 'record',
      name: 'Note',
      namespace: 'tributary.test',
      fields: [
        { name: 'text', type: 'string' },
        { name: 'amount', type: decimal(38, 9) },
      ],
    });
    const serde = createSerde({
      registry: createEmbeddedRegistry({ log: new MemorySchemaLog() }),
      catalog: own,
    });
    const values = ['short', 'x'.repeat(100_000), 'y'.repeat(3_000_000), 'after', 'z'.repeat(20_000)].map(
      (text, i) => ({ text, amount: `${i}${'9'.repeat(28)}.000000001` }),
    );
    // All start before the schema id is known; each must keep its own body.
    const framed = await Promise.all(
      values.map((v) => serde.encode('notes', 'tributary.test.Note', v as never)),
    );
    for (const [i, bytes] of framed.entries()) {
      expect(bytes.subarray(5)).toEqual(entry.type.toBuffer(values[i]));
      expect(bytes.readInt32BE(1)).toBe(framed[0]?.readInt32BE(1));
    }
    for (const v of values) {
      const bytes = await serde.encode('notes', 'tributary.test.Note', v as never);
      expect(bytes.subarray(5)).toEqual(entry.type.toBuffer(v));
    }
  });
});
