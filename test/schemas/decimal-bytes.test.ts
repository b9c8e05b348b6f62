import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { bigintToBytes, DecimalType } from '../../schemas/src/logical-types.ts';

/** The small-number fast path of the decimal type must write exactly what the BigInt path writes. */
const options = { logicalTypes: { decimal: DecimalType } } as unknown as avro.ForSchemaOptions;
const asBytes = avro.Type.forSchema(
  { type: 'bytes', logicalType: 'decimal', precision: 18, scale: 2 } as avro.Schema,
  options,
);
const asFixed = avro.Type.forSchema(
  { type: 'fixed', name: 'Amount', size: 8, logicalType: 'decimal', precision: 18, scale: 2 } as avro.Schema,
  options,
);

function expectedBytes(value: string, size?: number): Buffer {
  const [, sign, whole, fraction = ''] = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(value)!;
  const unscaled = BigInt(`${whole}${fraction.padEnd(2, '0')}`) * (sign === '-' ? -1n : 1n);
  return bigintToBytes(unscaled, size)!;
}

describe('decimal encoding', () => {
  const boundaries = [
    '0',
    '-0.00',
    '1.27',
    '1.28',
    '-1.28',
    '-1.29',
    '327.67',
    '327.68',
    '-327.68',
    '-327.69',
  ];
  const around47Bits = ['1407374883553.27', '-1407374883553.28', '1407374883553.28', '-1407374883553.29'];
  const wide = ['99999999999999.99', '-1234567890123456.78'];
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const generated = Array.from({ length: 5000 }, () => {
    const digits = Array.from({ length: 1 + Math.floor(random() * 16) }, () =>
      Math.floor(random() * 10),
    ).join('');
    const body = digits.length > 2 ? `${digits.slice(0, -2)}.${digits.slice(-2)}` : digits;
    return `${random() < 0.5 ? '-' : ''}${body}`;
  });

  it.each([
    ['bytes', asBytes, undefined],
    ['fixed(8)', asFixed, 8],
  ] as const)('writes the same two’s-complement bytes as the BigInt path (%s)', (_name, type, size) => {
    for (const value of [...boundaries, ...around47Bits, ...wide, ...generated]) {
      const buf = type.toBuffer(value);
      const expected = expectedBytes(value, size);
      // bytes carry a varint length first; fixed is the bytes themselves.
      expect(size ? buf : buf.subarray(buf.length - expected.length), value).toEqual(expected);
      expect(Number(type.fromBuffer(buf)) + 0, value).toBe(Number(value) + 0);
    }
  });
});
