import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  type AvroSchemaObject,
  type CatalogEntry,
  catalogFromEntries,
  createEmbeddedRegistry,
  createSerde,
  loadCatalog,
} from '../../schemas/index.ts';
import { avscOptions } from '../../schemas/src/logical-types.ts';
import { MemorySchemaLog } from './support/memory-log.ts';

/**
 * Wire compatibility with another language's Avro: Apache Avro's Python library (Debian package
 * python3-avro, run with the system interpreter) reads what our serde writes, and writes what our
 * serde reads, both in the Confluent framing.
 */
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support', 'python-avro-interop.py');
const python = '/usr/bin/python3';

function runPython(mode: 'read' | 'write', request: unknown): Promise<{ records: unknown[] }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      python,
      [script, mode],
      { timeout: 60_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`python3-avro ${mode} failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout) as { records: unknown[] });
      },
    );
    child.stdin?.end(JSON.stringify(request));
  });
}

const money: AvroSchemaObject = {
  type: 'record',
  name: 'Payment',
  namespace: 'tributary.test',
  fields: [
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};

function entryOf(schema: AvroSchemaObject): CatalogEntry {
  const type = avro.Type.forSchema(schema as avro.Schema, avscOptions());
  return { name: type.name ?? '', version: 1, file: 'payment.v1.avsc', schema, type };
}

describe('wire compatibility with Apache Avro for Python (python3-avro)', () => {
  it('needs the Debian package python3-avro', () => {
    expect(existsSync(python), `${python} missing: apt-get install python3-avro`).toBe(true);
  });

  it('Python reads every catalog event our serde writes, bit for bit, and the money values exactly', async () => {
    const catalog = await loadCatalog();
    const registry = createEmbeddedRegistry({ log: new MemorySchemaLog() });
    const serde = createSerde({ registry, catalog });
    const records: Buffer[] = [];
    for (const name of catalog.names()) {
      for (let i = 0; i < 3; i++)
        records.push(
          await serde.encode(`interop.${name}`, name, catalog.latest(name).type.random() as never),
        );
    }
    const paymentSerde = createSerde({ registry, catalog: catalogFromEntries([entryOf(money)]) });
    const payment = {
      amount: '-1234.50',
      id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      at: 1_700_000_000_123,
      note: 'hi',
    };
    records.push(await paymentSerde.encode('payments', 'tributary.test.Payment', payment as never));

    const ids = [...new Set(records.map((r) => r.readInt32BE(1)))];
    const schemas = Object.fromEntries(
      await Promise.all(ids.map(async (id) => [id, await registry.getById(id)])),
    );
    const { records: decoded } = await runPython('read', {
      schemas,
      records: records.map((r) => r.toString('hex')),
    });
    expect(decoded).toHaveLength(records.length);
    decoded.forEach((d, i) => {
      const record = records[i] as Buffer;
      expect(d).toMatchObject({ id: record.readInt32BE(1), reencoded: record.subarray(5).toString('hex') });
    });
    expect((decoded.at(-1) as { value: unknown }).value).toEqual(payment);
  });

  it('our serde reads what Python writes in the Confluent framing', async () => {
    const registry = createEmbeddedRegistry({ log: new MemorySchemaLog() });
    const serde = createSerde({ registry, catalog: catalogFromEntries([entryOf(money)]) });
    const id = await registry.register('payments-value', money);
    const { records } = await runPython('write', { id, schema: money });
    const values = await Promise.all(
      (records as string[]).map(async (hex, i) => {
        const decoded = await serde.decode(Buffer.from(hex, 'hex'), {
          topic: 'payments',
          partition: 0,
          offset: String(i),
        });
        expect(decoded).toMatchObject({
          schemaId: id,
          schemaName: 'tributary.test.Payment',
          writerVersion: 1,
        });
        return { ...(decoded.value as object) };
      }),
    );
    expect(values).toEqual([
      { amount: '-12.34', id: '00000000-0000-0000-0000-000000000001', at: 1_700_000_000_123, note: null },
      { amount: '99999999.99', id: '6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5', at: 0, note: 'from python' },
    ]);
  });
});
