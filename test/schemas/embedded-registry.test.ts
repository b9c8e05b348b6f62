import { describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import {
  type AvroSchemaObject,
  createEmbeddedRegistry,
  createSerde,
  loadCatalog,
} from '../../schemas/index.ts';
import { MemorySchemaLog } from './support/memory-log.ts';

const v1: AvroSchemaObject = {
  type: 'record',
  name: 'Item',
  namespace: 'tributary.test',
  fields: [{ name: 'sku', type: 'string' }],
};
const v2: AvroSchemaObject = {
  ...v1,
  fields: [...(v1.fields as object[]), { name: 'qty', type: 'int', default: 1 }],
};
const v3: AvroSchemaObject = {
  ...v1,
  fields: [...(v2.fields as object[]), { name: 'note', type: 'string', default: '' }],
};

describe('embedded schema registry over a compacted log', () => {
  it('gives two hub processes over one log the same ids and versions', async () => {
    const log = new MemorySchemaLog();
    const a = createEmbeddedRegistry({ log });
    const b = createEmbeddedRegistry({ log });
    const id1 = await a.register('items-value', v1);
    const id2 = await b.register('items-value', v2);
    expect(id1).not.toBe(id2);
    // Same schema from the other process, and again: the same id, no new version.
    expect(await b.register('items-value', v1)).toBe(id1);
    expect(await a.register('items-value', v2)).toBe(id2);
    expect(await a.versions('items-value')).toEqual([1, 2]);
    expect(await b.versions('items-value')).toEqual([1, 2]);
    expect(await a.latest('items-value')).toMatchObject({ id: id2, version: 2 });
    // b learns a schema a registered only when asked for the id: it reloads the log.
    const id3 = await a.register('items-value', v3);
    expect(await b.getById(id3)).toMatchObject({
      name: 'Item',
      fields: [{ name: 'sku' }, { name: 'qty' }, { name: 'note' }],
    });
    // The same schema under another subject keeps its global id.
    expect(await b.register('other-value', v1)).toBe(id1);
    expect(await b.versions('other-value')).toEqual([1]);
    expect(await a.latest('nobody-value')).toBeUndefined();
    expect(await a.versions('nobody-value')).toEqual([]);
  });

  it('keeps ids and versions after compaction and duplicate writes', async () => {
    const log = new MemorySchemaLog();
    const a = createEmbeddedRegistry({ log });
    const ids = [await a.register('items-value', v1), await a.register('items-value', v2)];
    // A process that had not yet seen the log re-registers v1 (appends a duplicate key later).
    const late = createEmbeddedRegistry({ log: log.compacted() });
    expect(await late.register('items-value', v1)).toBe(ids[0]);
    log.records.push(...log.records.filter((r) => r.key.includes(`:${ids[0]}`)));
    ids.push(await a.register('items-value', v3));
    const compacted = log.compacted();
    expect(compacted.records.length).toBeLessThan(log.records.length);
    const fresh = createEmbeddedRegistry({ log: compacted });
    for (const [i, id] of ids.entries()) {
      expect(await fresh.getById(id)).toMatchObject({ name: 'Item' });
      expect(await fresh.register('items-value', [v1, v2, v3][i] as AvroSchemaObject)).toBe(id);
    }
    expect(await fresh.versions('items-value')).toEqual([1, 2, 3]);
    expect(await fresh.latest('items-value')).toMatchObject({ id: ids[2], version: 3 });
  });

  it('orders versions by the catalog version hint, whatever order processes register in', async () => {
    const log = new MemorySchemaLog();
    const a = createEmbeddedRegistry({ log });
    const b = createEmbeddedRegistry({ log });
    const id2 = await a.register('items-value', v2, { version: 2 });
    const id1 = await b.register('items-value', v1, { version: 1 });
    for (const r of [a, b, createEmbeddedRegistry({ log: log.compacted() })]) {
      expect(await r.versions('items-value')).toEqual([1, 2]);
      expect(await r.latest('items-value')).toMatchObject({ id: id2, version: 2 });
    }
    expect(id1).not.toBe(id2);
  });

  it('agrees on one order when two processes raced to add versions without hints', async () => {
    // Each process saw the subject empty (its own view of the log) and wrote "version 1".
    const logA = new MemorySchemaLog();
    const logB = new MemorySchemaLog();
    const idA = await createEmbeddedRegistry({ log: logA }).register('items-value', v1);
    const idB = await createEmbeddedRegistry({ log: logB }).register('items-value', v2);
    // The shared topic then holds both processes' records, interleaved in either order.
    for (const merged of [
      [...logB.records, ...logA.records],
      [...logA.records, ...logB.records],
    ]) {
      const log = new MemorySchemaLog();
      log.records = merged;
      for (const view of [log, log.compacted()]) {
        const registry = createEmbeddedRegistry({ log: view });
        expect(await registry.versions('items-value')).toEqual([1, 2]);
        expect(await registry.latest('items-value')).toMatchObject({ id: Math.max(idA, idB), version: 2 });
      }
    }
  });

  it('refuses a version that breaks the mode the schema declares, per record name', async () => {
    const registry = createEmbeddedRegistry({ log: new MemorySchemaLog() });
    await registry.register('items-value', v2);
    const noQtyDefault: AvroSchemaObject = {
      ...v1,
      fields: [
        { name: 'sku', type: 'string' },
        { name: 'qty', type: 'int' },
        { name: 'extra', type: 'string' },
      ],
    };
    await expect(registry.register('items-value', noQtyDefault)).rejects.toMatchObject({
      code: 'SCHEMA_INCOMPATIBLE',
      retriable: false,
      where: { subject: 'items-value', field: 'extra' },
    });
    // Dropping qty is BACKWARD-compatible, but not under the FORWARD mode this schema declares.
    await expect(
      registry.register('items-value', {
        ...v1,
        'tributary.compatibility': 'FORWARD',
        fields: [
          { name: 'sku', type: 'string' },
          { name: 'note', type: 'string', default: '' },
        ],
      }),
    ).resolves.toBeTypeOf('number');
    const forward: AvroSchemaObject = {
      ...v1,
      'tributary.compatibility': 'FORWARD',
      fields: [{ name: 'sku', type: 'string' }],
    };
    await expect(
      registry.register('items-value', { ...forward, fields: [{ name: 'other', type: 'int', default: 0 }] }),
    ).rejects.toMatchObject({
      code: 'SCHEMA_INCOMPATIBLE',
      where: { field: 'sku' },
    });
    // Another record on the same topic is another event type, not a new version.
    const other: AvroSchemaObject = {
      type: 'record',
      name: 'Other',
      namespace: 'tributary.test',
      fields: [{ name: 'x', type: 'int' }],
    };
    await expect(registry.register('items-value', other)).resolves.toBeTypeOf('number');
    expect(
      await createEmbeddedRegistry({ log: new MemorySchemaLog(), enforceCompatibility: false }).register(
        'items-value',
        noQtyDefault,
      ),
    ).toBeTypeOf('number');
  });

  it('answers an unknown id with SCHEMA_ID_UNKNOWN and a bad schema with SCHEMA_REJECTED', async () => {
    const registry = createEmbeddedRegistry({ log: new MemorySchemaLog() });
    await expect(registry.getById(4242)).rejects.toMatchObject({
      code: 'SCHEMA_ID_UNKNOWN',
      retriable: false,
    });
    await expect(
      registry.register('x-value', { type: 'record', name: 'Bad', fields: [{ name: 'a', type: 'nope' }] }),
    ).rejects.toMatchObject({
      code: 'SCHEMA_REJECTED',
    });
  });

  it('reports a log it cannot read as a retriable outage', async () => {
    const log = new MemorySchemaLog();
    log.readAll = async () => {
      throw new Error('broker not available');
    };
    const err = await createEmbeddedRegistry({ log })
      .getById(1)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err).toMatchObject({ code: 'SCHEMA_REGISTRY_UNREACHABLE', retriable: true });
  });

  it('lets a consumer process decode what another process registered after it loaded the log', async () => {
    const catalog = await loadCatalog();
    const log = new MemorySchemaLog();
    const consumerRegistry = createEmbeddedRegistry({ log });
    const snapshot = createEmbeddedRegistry({ log: log.compacted() }); // a log that never sees the write
    await expect(consumerRegistry.versions('some.topic-value')).resolves.toEqual([]); // state loaded, empty
    const producer = createSerde({ registry: createEmbeddedRegistry({ log }), catalog });
    const name = catalog.names().find((n) => !n.startsWith('tributary.common.')) as string;
    const bytes = await producer.encode('some.topic', name, catalog.latest(name).type.random() as never);
    const at = { topic: 'some.topic', partition: 0, offset: '0' };
    expect((await createSerde({ registry: consumerRegistry, catalog }).decode(bytes, at)).schemaName).toBe(
      name,
    );
    await expect(createSerde({ registry: snapshot, catalog }).decode(bytes, at)).rejects.toMatchObject({
      code: 'SERDE_UNKNOWN_SCHEMA_ID',
    });
  });
});
