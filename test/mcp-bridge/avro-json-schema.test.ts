import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { describe, expect, it } from 'vitest';
import { resolveCommands, toolsFromDeclarations } from '../../mcp-bridge/tools-from-declarations.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import {
  avroFieldToJsonSchema,
  avroToJsonSchema,
  type JsonSchema,
  loadCatalog,
  newEnvelope,
} from '../../schemas/index.ts';

const ajv = new AjvJsonSchemaValidator();
const valid = (schema: JsonSchema, value: unknown) =>
  ajv.getValidator(schema as Parameters<typeof ajv.getValidator>[0])(value).valid;

const order = {
  type: 'record',
  name: 'Order',
  namespace: 'test.shop',
  doc: 'An order.',
  fields: [
    { name: 'id', type: { type: 'string', logicalType: 'uuid' }, doc: 'Order id.' },
    { name: 'placedAt', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'When placed.' },
    {
      name: 'total',
      type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 },
      doc: 'Total.',
    },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['open', 'paid'] }, doc: 'Status.' },
    { name: 'note', type: ['null', 'string'], default: null, doc: 'Free note.' },
    {
      name: 'lines',
      doc: 'Lines.',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Line',
          fields: [
            { name: 'sku', type: 'string', doc: 'Article.' },
            { name: 'qty', type: 'int', doc: 'Quantity.' },
          ],
        },
      },
    },
    { name: 'tags', type: { type: 'map', values: 'string' }, default: {}, doc: 'Tags.' },
    { name: 'previous', type: ['null', 'Status'], default: null, doc: 'Status before (named type reused).' },
    { name: 'gift', type: ['null', 'Line'], default: null, doc: 'Free line.' },
  ],
};

describe('Avro -> JSON Schema', () => {
  const schema = avroToJsonSchema(order as never);

  it('maps records, logical types, enums, arrays, maps, optional unions and docs', () => {
    expect(schema).toMatchObject({
      type: 'object',
      description: 'An order.',
      additionalProperties: false,
      required: ['id', 'placedAt', 'total', 'status', 'lines'],
      properties: {
        id: { type: 'string', format: 'uuid', description: 'Order id.' },
        placedAt: { type: 'integer' },
        total: { type: 'string', pattern: '^-?\\d+(\\.\\d{1,2})?$' },
        status: { type: 'string', enum: ['open', 'paid'], description: 'Status.' },
        note: { type: ['string', 'null'], description: 'Free note.' },
        lines: { type: 'array', items: { type: 'object', required: ['sku', 'qty'] } },
        tags: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
        previous: { anyOf: [{ enum: ['open', 'paid'] }, { type: 'null' }] },
        gift: { anyOf: [{ type: 'object', properties: { sku: { type: 'string' } } }, { type: 'null' }] },
      },
    });
  });

  it('accepts values of the Avro shape and refuses others', () => {
    const good = {
      id: '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b',
      placedAt: 1_700_000_000_000,
      total: '12.50',
      status: 'open',
      lines: [{ sku: 'A', qty: 2 }],
    };
    expect(valid(schema, good)).toBe(true);
    expect(valid(schema, { ...good, note: null, previous: 'paid', gift: { sku: 'B', qty: 1 } })).toBe(true);
    expect(valid(schema, { ...good, total: 12.5 })).toBe(false);
    expect(valid(schema, { ...good, total: '12.505' })).toBe(false);
    expect(valid(schema, { ...good, status: 'lost' })).toBe(false);
    expect(valid(schema, { ...good, id: 'not-a-uuid' })).toBe(false);
    expect(valid(schema, { ...good, lines: [{ sku: 'A', qty: 2 ** 31 }] })).toBe(false);
    expect(valid(schema, { ...good, unknown: 1 })).toBe(false);
    const { id: _, ...withoutId } = good;
    expect(valid(schema, withoutId)).toBe(false);
  });

  it('refuses a recursive record with a clear error', () => {
    const list = {
      type: 'record',
      name: 'Node',
      fields: [{ name: 'next', type: ['null', 'Node'], default: null }],
    };
    expect(() => avroToJsonSchema(list as never)).toThrow(/refers to itself/);
  });
});

describe('tools derived from component declarations and the schema catalog', () => {
  const declaration = {
    name: 'connector.crm-test',
    kind: 'connector',
    description: 'test',
    topics: [
      { name: 'crm.contact.upsert.cmd', description: 'cmd', valueSchema: 'tributary.crm.ContactUpsert' },
      {
        name: 'crm.contact.upsert.res',
        description: 'res',
        valueSchema: 'tributary.crm.ContactUpsertResult',
      },
    ],
    produces: [],
    consumes: [],
    commands: [
      {
        name: 'crm.contact.upsert',
        title: 'Upsert a contact',
        description: 'Creates or updates a contact.',
        topic: 'crm.contact.upsert.cmd',
        resultTopic: 'crm.contact.upsert.res',
        mutating: true,
      },
    ],
  } as unknown as ComponentDeclaration<unknown>;

  it('builds input and output schemas from the command and result data records', async () => {
    const catalog = await loadCatalog();
    const [tool] = toolsFromDeclarations([declaration], catalog, async () => ({ text: 'unused' }));
    expect(tool?.name).toBe('crm.contact.upsert');
    expect(tool?.mutating).toBe(true);
    const command = catalog.latest('tributary.crm.ContactUpsert');
    expect(tool?.inputSchema).toEqual(avroFieldToJsonSchema(command.schema, 'data'));
    expect(tool?.inputSchema.required).toContain('externalId');
    expect(Object.keys(tool?.outputSchema?.properties as object).length).toBeGreaterThan(0);

    // A value the JSON Schema accepts is exactly what the Avro type encodes.
    const args = { externalId: 'ext-1', firstName: 'Ada' };
    expect(valid(tool!.inputSchema, args)).toBe(true);
    const envelope = newEnvelope({
      type: command.name,
      source: 'mcp-bridge',
      subject: 'ext-1',
      actor: 'alice',
    });
    const data = Object.fromEntries(
      Object.entries((tool!.inputSchema.properties ?? {}) as Record<string, unknown>).map(([k]) => [
        k,
        (args as Record<string, unknown>)[k] ?? null,
      ]),
    );
    expect(command.type.isValid({ envelope, data })).toBe(true);
    expect(valid(tool!.inputSchema, { firstName: 'no external id' })).toBe(false);
  });

  it('names the missing topic when a command points at an undeclared one', () => {
    const broken = { ...declaration, topics: [] } as unknown as ComponentDeclaration<unknown>;
    expect(() => resolveCommands([broken])).toThrow(/crm\.contact\.upsert\.cmd/);
  });
});
