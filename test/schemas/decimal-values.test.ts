import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { avscOptions, bigintToBytes } from '../../schemas/src/logical-types.ts';

/**
 * The decimal type's digit parser and direct byte writer against the BigInt reference (the
 * regex + BigInt + bigintToBytes conversion the hub used before): the same bytes for every valid
 * value, on bytes and fixed, and the same verdict for every invalid one.
 */

interface Shape {
  precision: number;
  scale: number;
  size?: number;
}

const shapes: Shape[] = [
  { precision: 18, scale: 2 },
  { precision: 38, scale: 9 },
  { precision: 15, scale: 0 },
  { precision: 16, scale: 0 },
  { precision: 4, scale: 4 },
  { precision: 18, scale: 2, size: 8 },
  { precision: 38, scale: 4, size: 16 },
  { precision: 4, scale: 2, size: 2 },
  // fixed sizes too small for their precision: a value can have few enough digits and not fit
  { precision: 6, scale: 2, size: 2 },
  { precision: 18, scale: 2, size: 6 },
];

function typeOf({ precision, scale, size }: Shape): avro.Type {
  const schema =
    size === undefined
      ? { type: 'bytes', logicalType: 'decimal', precision, scale }
      : { type: 'fixed', name: `D${size}x${precision}`, size, logicalType: 'decimal', precision, scale };
  return avro.Type.forSchema(schema as avro.Schema, avscOptions());
}

/** The unscaled value by the reference rules, or undefined when the value is not representable. */
function referenceUnscaled(value: unknown, { precision, scale }: Shape): bigint | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) return undefined;
  const [, sign, whole = '', fraction = ''] = m;
  if (/[1-9]/.test(fraction.slice(scale))) return undefined;
  const unscaled =
    BigInt(`${whole}${fraction.slice(0, scale).padEnd(scale, '0')}`) * (sign === '-' ? -1n : 1n);
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString().length;
  return digits > precision ? undefined : unscaled;
}

/** The decimal string the type decodes to: exactly `scale` fraction digits. */
function canonical(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale ? `.${digits.slice(digits.length - scale)}` : ''}`;
}

const plainBytes = avro.Type.forSchema('bytes');

/** The whole Avro encoding the reference expects (bytes carry a varint length first). */
function referenceEncoding(value: unknown, shape: Shape): Buffer | undefined {
  const unscaled = referenceUnscaled(value, shape);
  if (unscaled === undefined) return undefined;
  const raw = bigintToBytes(unscaled, shape.size);
  if (!raw) return undefined;
  return shape.size === undefined ? plainBytes.toBuffer(raw) : raw;
}

const nines = (n: number) => '9'.repeat(n);

const listed: unknown[] = [
  // zero in its spellings
  '0',
  '-0',
  '+0',
  '-0.00',
  '0.000',
  '000',
  '-000.000000',
  // fewer fraction digits than the scale, leading zeros, a plus sign
  '12.5',
  '-12.5',
  '00.10',
  '+7.1',
  '5',
  '-5',
  // one-, two- and three-byte boundaries
  '1.27',
  '1.28',
  '-1.28',
  '-1.29',
  '327.67',
  '327.68',
  '-327.68',
  '-327.69',
  '83886.07',
  '83886.08',
  '-83886.08',
  '-83886.09',
  // the 14/15/16-digit boundary (numbers up to 15 digits, BigInt beyond)
  '999999999999.99',
  '-999999999999.99',
  '9999999999999.99',
  '-9999999999999.99',
  '1000000000000.00',
  '99999999999999.99',
  '-99999999999999.99',
  '10000000000000.00',
  '1234567890123.4',
  '123456789012345',
  '-123456789012345',
  '99999999999999',
  '999999999999999',
  '-999999999999999',
  '9999999999999999',
  '1000000000000000',
  '1407374883553.27',
  '-1407374883553.28',
  '1407374883553.28',
  '-1407374883553.29',
  '90071992547409.91',
  '-90071992547409.92',
  '9007199254740991',
  '9007199254740993',
  '-9223372036854775808',
  '9223372036854775807',
  '92233720368547758.07',
  '-92233720368547758.08',
  '0.0001',
  '0.000000001',
  '-0.000000001',
  '0.1234',
  '-0.9999',
  '99.99',
  '-99.99',
  // the largest precisions
  `${nines(29)}.${nines(9)}`,
  `-${nines(29)}.${nines(9)}`,
  `${nines(34)}.${nines(4)}`,
  `-${nines(34)}.${nines(4)}`,
  `${nines(30)}.0`,
  `${nines(35)}`,
  `${nines(16)}.${nines(2)}`,
  `${nines(17)}.${nines(2)}`,
  // fraction digits beyond the scale that are zeros
  '1.50000000000000000000',
  '1.000',
  '-0.0000',
  '12.340000000000',
  '-128.00000',
  // fraction digits beyond the scale that are not zeros, too many digits
  '1.005',
  '1.0000001',
  '-0.0000000001',
  `1${'0'.repeat(38)}`,
  `${nines(39)}`,
  // not decimals
  '',
  '-',
  '+',
  '.5',
  '5.',
  '-.5',
  '1e5',
  '1E-2',
  ' 1',
  '1 ',
  '1,5',
  '--1',
  '+-1',
  '1.2.3',
  '0x10',
  'NaN',
  'Infinity',
  '\u0661\u0662',
  '１２',
  '12\n',
  // not strings
  12.5,
  0,
  -1,
  10n,
  null,
  undefined,
  true,
  {},
  [],
  Buffer.from([1]),
];

/** Deterministic random decimal strings of 1 to 40 digits, some with trailing zero digits. */
function generated(count: number): string[] {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  return Array.from({ length: count }, () => {
    const length = 1 + Math.floor(random() ** 2 * 40);
    const digits = Array.from({ length }, () => Math.floor(random() * 10)).join('');
    const point = Math.floor(random() * (length + 1));
    const zeros = random() < 0.2 ? '0'.repeat(1 + Math.floor(random() * 6)) : '';
    const sign = random() < 0.4 ? '-' : random() < 0.05 ? '+' : '';
    const body = point > 0 && point < length ? `${digits.slice(0, point)}.${digits.slice(point)}` : digits;
    return `${sign}${body}${zeros && (body.includes('.') ? zeros : `.${zeros}`)}`;
  });
}

const values = [...listed, ...generated(4000)];

describe('decimal values against the BigInt reference', () => {
  it.each(
    shapes.map(
      (s) => [s.size === undefined ? 'bytes' : `fixed(${s.size})`, s.precision, s.scale, s] as const,
    ),
  )(
    '%s decimal(%i, %i): same bytes for every valid value, refused when the reference refuses',
    (_kind, _precision, _scale, shape) => {
      const type = typeOf(shape);
      let valid = 0;
      let invalid = 0;
      for (const value of values) {
        const label = `${typeof value} ${String(value)}`;
        const expected = referenceEncoding(value, shape);
        if (expected === undefined) {
          invalid += 1;
          expect(type.isValid(value), label).toBe(false);
          expect(() => type.toBuffer(value), label).toThrow();
          continue;
        }
        valid += 1;
        expect(type.isValid(value), label).toBe(true);
        expect(type.toBuffer(value), label).toEqual(expected);
        // The direct write into a buffer that is too small reports the missing bytes, as avsc does.
        const short = Buffer.alloc(expected.length - 1);
        expect(type.encode(value, short, 0), label).toBe(-1);
        const exact = Buffer.alloc(expected.length);
        expect(type.encode(value, exact, 0), label).toBe(expected.length);
        expect(exact, label).toEqual(expected);
        const text = canonical(referenceUnscaled(value, shape) as bigint, shape.scale);
        expect(type.fromBuffer(expected), label).toBe(text);
        // clone goes through the Buffer conversion (_toValue) that isValid uses.
        expect(type.clone(value), label).toBe(text);
      }
      // Both sides of the verdict are exercised for every shape.
      expect(valid).toBeGreaterThan(100);
      expect(invalid).toBeGreaterThan(40);
    },
  );

  it('refuses to read a decimal that runs past the record or has a negative length', () => {
    const bytes = typeOf({ precision: 18, scale: 2 });
    const fixed = typeOf({ precision: 18, scale: 2, size: 8 });
    // zigzag 10 = 5 bytes announced, 2 present; zigzag 1 = length -1.
    expect(() => bytes.fromBuffer(Buffer.from([10, 1, 2]))).toThrow(/past the record/);
    expect(() => bytes.fromBuffer(Buffer.from([1, 1]))).toThrow(/past the record/);
    expect(() => fixed.fromBuffer(Buffer.from([0, 0, 1]))).toThrow(/past the record/);
    expect(bytes.fromBuffer(Buffer.from([0]))).toBe('0.00');
  });

  it('writes many decimals past the end of avsc’s 1 KiB shared buffer the same way', () => {
    const shape = { precision: 18, scale: 2 };
    const list = avro.Type.forSchema(
      { type: 'array', items: { type: 'bytes', logicalType: 'decimal', ...shape } } as avro.Schema,
      avscOptions(),
    );
    const amounts = Array.from({ length: 400 }, (_, i) => `${i % 2 ? '-' : ''}${i * 1234567}.${i % 100}`);
    const expected = amounts.map((a) => bigintToBytes(referenceUnscaled(a, shape) as bigint) as Buffer);
    const plainList = avro.Type.forSchema({ type: 'array', items: 'bytes' });
    const bytes = list.toBuffer(amounts);
    expect(bytes.length).toBeGreaterThan(1024);
    expect(bytes).toEqual(plainList.toBuffer(expected));
  });
});
