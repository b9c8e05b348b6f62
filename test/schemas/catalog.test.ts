import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { type EventData, loadCatalog, newEnvelope, newEvent, scanCatalog } from '../../schemas/index.ts';
import { bigintToBytes, bytesToBigint } from '../../schemas/src/logical-types.ts';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tree(files: Record<string, unknown>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'tributary-catalog-'));
  temps.push(root);
  for (const [file, json] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), typeof json === 'string' ? json : JSON.stringify(json));
  }
  return root;
}

const money = {
  type: 'record',
  name: 'Money',
  namespace: 'tributary.common',
  fields: [
    {
      name: 'amount',
      type: { type: 'bytes', logicalType: 'decimal', precision: 18, scale: 2 },
      doc: 'Amount.',
    },
    { name: 'currency', type: 'string', doc: 'ISO 4217 code.' },
  ],
};

describe('schema catalog', () => {
  it('loads the repository schemas as self-contained schemas, versions side by side', async () => {
    const catalog = await loadCatalog();
    expect(catalog.has('tributary.common.Envelope')).toBe(true);
    expect(catalog.versions('tributary.ops.ComponentStatusChanged').map((e) => e.version)).toEqual([1, 2]);
    for (const name of catalog.names()) {
      for (const entry of catalog.versions(name)) {
        // Parses on its own with a plain avsc, as a Java or Python consumer would from the registry.
        expect(() => avro.Type.forSchema(entry.schema as avro.Schema), entry.file).not.toThrow();
        expect(entry.type.name).toBe(name);
      }
    }
    expect(() => catalog.latest('tributary.nope.Nothing')).toThrow(HubError);
  });

  it('inlines shared types at first use only, resolving short names inside shared types', async () => {
    const root = await tree({
      'common/money.avsc': money,
      'common/price.v1.avsc': {
        type: 'record',
        name: 'Price',
        namespace: 'tributary.common',
        fields: [
          { name: 'net', type: 'Money', doc: 'Net.' },
          { name: 'gross', type: 'Money', doc: 'Gross.' },
        ],
      },
      'erp/quote-made.v1.avsc': {
        type: 'record',
        name: 'QuoteMade',
        namespace: 'tributary.erp',
        fields: [
          { name: 'price', type: 'tributary.common.Price', doc: 'Price.' },
          { name: 'discount', type: ['null', 'tributary.common.Money'], default: null, doc: 'Discount.' },
        ],
      },
    });
    const catalog = await loadCatalog(root);
    const entry = catalog.latest('tributary.erp.QuoteMade');
    const text = JSON.stringify(entry.schema);
    expect(text.match(/"name":"Money"/g)).toHaveLength(1);
    expect(text.match(/"name":"Price"/g)).toHaveLength(1);
    const plain = avro.Type.forSchema(entry.schema as avro.Schema);
    expect(
      plain.isValid({
        price: {
          net: { amount: Buffer.from([1]), currency: 'EUR' },
          gross: { amount: Buffer.from([2]), currency: 'EUR' },
        },
        discount: null,
      }),
    ).toBe(true);
    expect(
      entry.type.isValid({
        price: { net: { amount: '1.00', currency: 'EUR' }, gross: { amount: '1.19', currency: 'EUR' } },
        discount: null,
      }),
    ).toBe(true);
  });

  it('refuses invalid defaults, bad names and duplicate versions, naming file and field', async () => {
    const root = await tree({
      'crm/thing-made.v1.avsc': {
        type: 'record',
        name: 'ThingMade',
        namespace: 'tributary.crm',
        fields: [
          { name: 'count', type: 'int', default: 'many', doc: 'Count.' },
          { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A'], default: 'Z' }, doc: 'Kind.' },
          {
            name: 'nested',
            type: {
              type: 'record',
              name: 'Nested',
              fields: [{ name: 'maybe', type: ['string', 'null'], default: null, doc: 'M.' }],
            },
            doc: 'N.',
          },
        ],
      },
      'crm/thing-made.avsc': { type: 'record', name: 'ThingMade', namespace: 'tributary.crm', fields: [] },
      'crm/Bad_Name.v1.avsc': { type: 'record', name: 'X', fields: [] },
      'crm/uses-unknown.v1.avsc': {
        type: 'record',
        name: 'UsesUnknown',
        namespace: 'tributary.crm',
        fields: [{ name: 'x', type: 'tributary.crm.Elsewhere', doc: 'X.' }],
      },
      'crm/broken.v1.avsc': '{ not json',
    });
    const { problems } = await scanCatalog(root);
    const summary = problems.map((p) => `${p.file} ${p.rule} ${p.path}`);
    expect(summary).toEqual(
      expect.arrayContaining([
        'crm/thing-made.v1.avsc invalid-default count',
        'crm/thing-made.v1.avsc invalid-default kind',
        'crm/thing-made.v1.avsc invalid-default nested.maybe',
        'crm/thing-made.v1.avsc duplicate-version ',
        'crm/Bad_Name.v1.avsc file-name ',
        'crm/uses-unknown.v1.avsc invalid-schema ',
        'crm/broken.v1.avsc invalid-json ',
      ]),
    );
    expect(problems.find((p) => p.path === 'nested.maybe')?.message).toContain("union's first branch");
    expect(problems.find((p) => p.file === 'crm/uses-unknown.v1.avsc')?.message).toContain('schemas/common');
    await expect(loadCatalog(root)).rejects.toMatchObject({ code: 'SCHEMA_INVALID' });
  });

  it('converts decimals through two’s complement exactly, at every byte boundary', () => {
    for (const n of [
      0n,
      1n,
      -1n,
      127n,
      128n,
      -128n,
      -129n,
      255n,
      256n,
      32767n,
      -32768n,
      -32769n,
      10n ** 30n,
      -(10n ** 30n),
    ]) {
      const bytes = bigintToBytes(n) as Buffer;
      expect(bytesToBigint(bytes)).toBe(n);
      expect(bytesToBigint(bigintToBytes(n, 16) as Buffer)).toBe(n);
    }
    expect(bigintToBytes(128n)).toEqual(Buffer.from([0x00, 0x80]));
    expect(bigintToBytes(-128n)).toEqual(Buffer.from([0x80]));
    expect(bigintToBytes(-129n)).toEqual(Buffer.from([0xff, 0x7f]));
    expect(bigintToBytes(1n << 70n, 8)).toBeUndefined(); // doesn't fit a fixed(8)
  });

  it('types producers: the generated EventTypes reject invented fields at compile time', () => {
    const data: EventData<'tributary.ops.ComponentStatusChanged'> = {
      component: 'connector.crm',
      instance: 'i-1',
      status: 'RUNNING',
      // @ts-expect-error -- not a field of ComponentStatusChangedData; tsc (in the test command) fails if it becomes accepted
      colour: 'red',
    };
    const envelope = newEnvelope({
      type: 'tributary.ops.ComponentStatusChanged',
      source: 's',
      subject: 'k',
      actor: 'a',
    });
    expect(envelope).toMatchObject({
      tenant: 'default',
      correlationId: null,
      causationId: null,
      schemaVersion: 1,
    });
    expect(envelope.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(data.status).toBe('RUNNING');
    const event = newEvent(
      'tributary.ops.ComponentStatusChanged',
      { source: 's', subject: 'k', actor: 'a' },
      // @ts-expect-error -- `state` is not a field (the schema calls it `status`)
      { component: 'c', instance: 'i', state: 'RUNNING' },
    );
    expect(event.envelope.type).toBe('tributary.ops.ComponentStatusChanged');
  });
});
