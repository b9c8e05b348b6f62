import { describe, expect, it } from 'vitest';
import type { PinnedRecord } from '../../platform/producer-client.ts';
import { packRecords, transferables, unpackRecords } from '../../platform/record-columns.ts';

/**
 * A batch crosses to the producer thread as columns (platform/record-columns.ts) through a real
 * structured clone with transfer, as postMessage does: every part of every record must arrive.
 */
function across(records: PinnedRecord[]) {
  const packed = packRecords(records);
  const cloned = structuredClone(packed, { transfer: transferables(packed) });
  return { packed, records: unpackRecords(cloned) };
}

const event = (i: number, extra: Record<string, string> = {}): PinnedRecord => ({
  key: `SO-${i}`,
  value: Buffer.from(`value ${i}`),
  headers: {
    'content-type': 'application/vnd.tributary+avro',
    'tributary.event.id': `id-${i}`,
    'tributary.event.type': 'tributary.erp.SalesOrderChanged',
    ...extra,
  },
  partition: i % 3,
});

describe('records as columns for the producer thread', () => {
  it('sends the usual event headers as columns, a shared value once, and gets every record back', () => {
    const records = Array.from({ length: 50 }, (_, i) => event(i));
    const { packed, records: back } = across(records);
    expect('columns' in packed.headers).toBe(true);
    if ('columns' in packed.headers) {
      const { same, varying } = packed.headers.columns;
      expect(same).toEqual(['application/vnd.tributary+avro', undefined, 'tributary.erp.SalesOrderChanged']);
      expect(varying[1]).toHaveLength(50);
    }
    expect(packed.timestamps).toBeUndefined();
    expect(back).toEqual(records);
    expect(Object.keys(back[7]!.headers!)).toEqual(Object.keys(records[7]!.headers!));
    expect(Buffer.isBuffer(back[7]!.value)).toBe(true);
  });

  it('keeps a value that starts to differ midway, and falls back to rows for other headers', () => {
    const midway = Array.from({ length: 10 }, (_, i) => event(i, { trace: i < 6 ? 'same' : `t-${i}` }));
    expect(across(midway).records).toEqual(midway);
    const mixed: PinnedRecord[] = [
      event(0),
      { key: null, value: null, partition: 2, timestamp: '1700000000123' },
      {
        key: Buffer.from([1, 2, 3]),
        value: Buffer.alloc(0),
        headers: { 'x-bytes': Buffer.from([9, 8]), 'x-many': ['a', Buffer.from('b')], 'x-one': 'c' },
        partition: 1,
      },
      { ...event(3), headers: { 'tributary.event.id': 'id-3', 'content-type': 'x' } },
    ];
    const { packed, records: back } = across(mixed);
    expect('rows' in packed.headers).toBe(true);
    expect(back[0]).toEqual(mixed[0]);
    expect(back[1]).toEqual({
      key: null,
      value: null,
      headers: undefined,
      partition: 2,
      timestamp: '1700000000123',
    });
    expect(back[2]!.key).toEqual(Buffer.from([1, 2, 3]));
    expect(Buffer.isBuffer(back[2]!.key)).toBe(true);
    expect(back[2]!.value).toEqual(Buffer.alloc(0));
    expect(back[2]!.headers).toEqual(mixed[2]!.headers);
    expect(Buffer.isBuffer(back[2]!.headers!['x-bytes'])).toBe(true);
    expect(Buffer.isBuffer((back[2]!.headers!['x-many'] as Buffer[])[1])).toBe(true);
    expect(back[3]).toEqual(mixed[3]);
    expect(back.map((r) => r.timestamp)).toEqual([undefined, '1700000000123', undefined, undefined]);
  });

  it('moves the values buffer instead of copying it', () => {
    const packed = packRecords([event(1), event(2)]);
    const values = packed.values;
    structuredClone(packed, { transfer: transferables(packed) });
    expect(values.byteLength).toBe(0);
  });
});
