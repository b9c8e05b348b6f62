import { randomUUID } from 'node:crypto';
import avro from 'avsc';

/**
 * How Avro logical types look in JavaScript, everywhere in the hub (serde, generated types):
 * - `decimal` (bytes or fixed) is a **string** such as `"-1234.50"`: lossless, always printed with
 *   exactly `scale` fraction digits. Encoding accepts fewer fraction digits (`"12.5"` for scale 2)
 *   and rejects a value that would lose digits or exceed the precision.
 * - `uuid` (string) is a string in the 8-4-4-4-12 hex form; anything else fails validation.
 * - `timestamp-millis`, `timestamp-micros`, `date`, `time-millis` stay **numbers** (their underlying
 *   long/int): milliseconds since the epoch for timestamp-millis, as `Date.now()` returns. We do not
 *   map them to `Date`, so a decoded event re-encodes unchanged and JSON-logs cleanly.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

type AnyType = avro.Type & { typeName: string };

/** Reads `precision`/`scale` the way the Avro spec defines them. */
function decimalParams(schema: unknown): { precision: number; scale: number } {
  const s = schema as { precision?: unknown; scale?: unknown };
  const precision = typeof s.precision === 'number' ? s.precision : Number.NaN;
  const scale = typeof s.scale === 'number' ? s.scale : 0;
  if (!Number.isInteger(precision) || precision < 1)
    throw new Error('decimal needs an integer precision >= 1');
  if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
    throw new Error('decimal scale must be an integer in [0, precision]');
  }
  return { precision, scale };
}

/** Two's-complement big-endian bytes of `n`, minimal length (or exactly `size` when given). */
export function bigintToBytes(n: bigint, size?: number): Buffer | undefined {
  let len = 1;
  while (n >= 1n << BigInt(len * 8 - 1) || n < -(1n << BigInt(len * 8 - 1))) len += 1;
  const width = size ?? len;
  if (len > width) return undefined;
  const unsigned = n < 0n ? (1n << BigInt(width * 8)) + n : n;
  return Buffer.from(unsigned.toString(16).padStart(width * 2, '0'), 'hex');
}

/**
 * The same bytes as bigintToBytes for integers of at most 14 digits (|n| < 2^47), without BigInt
 * or hex strings: most money amounts take this path (the ingest benchmark spent half its CPU in
 * the BigInt one).
 */
function smallIntToBytes(n: number, size?: number): Buffer | undefined {
  let len = 1;
  while (n >= 2 ** (len * 8 - 1) || n < -(2 ** (len * 8 - 1))) len += 1;
  const width = size ?? len;
  if (len > width) return undefined;
  const buf = Buffer.alloc(width, n < 0 ? 0xff : 0);
  buf.writeIntBE(n, width - len, len);
  return buf;
}

/** Inverse of bigintToBytes. */
export function bytesToBigint(buf: Buffer): bigint {
  if (buf.length === 0) return 0n;
  const unsigned = BigInt(`0x${buf.toString('hex')}`);
  const negative = (buf[0] ?? 0) & 0x80;
  return negative ? unsigned - (1n << BigInt(buf.length * 8)) : unsigned;
}

/** `decimal` on bytes or fixed, represented as a lossless decimal string. */
export class DecimalType extends avro.types.LogicalType {
  readonly precision: number;
  readonly scale: number;
  readonly fixedSize: number | undefined;

  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    const params = decimalParams(schema);
    this.precision = params.precision;
    this.scale = params.scale;
    const underlying = this.underlyingType as AnyType & { size?: number };
    this.fixedSize = underlying.typeName === 'fixed' ? underlying.size : undefined;
  }

  /** Decimal string -> unscaled two's-complement bytes; undefined when not representable. */
  protected override _toValue(value: unknown): Buffer | undefined {
    if (typeof value !== 'string') return undefined;
    const m = DECIMAL.exec(value);
    if (!m) return undefined;
    const [, sign = '', whole = '', fraction = ''] = m;
    if (fraction.length > this.scale && /[1-9]/.test(fraction.slice(this.scale))) return undefined;
    const digits = `${whole}${fraction.slice(0, this.scale).padEnd(this.scale, '0')}`.replace(
      /^0+(?=\d)/,
      '',
    );
    if (digits.length > this.precision) return undefined;
    if (digits.length <= 14) {
      const small = Number(digits) * (sign === '-' ? -1 : 1);
      return smallIntToBytes(small === 0 ? 0 : small, this.fixedSize);
    }
    const unscaled = BigInt(digits) * (sign === '-' ? -1n : 1n);
    return bigintToBytes(unscaled, this.fixedSize);
  }

  protected override _fromValue(buf: Buffer): string {
    const unscaled = bytesToBigint(buf);
    const negative = unscaled < 0n;
    const digits = (negative ? -unscaled : unscaled).toString().padStart(this.scale + 1, '0');
    const whole = digits.slice(0, digits.length - this.scale);
    const fraction = digits.slice(digits.length - this.scale);
    return `${negative ? '-' : ''}${whole}${this.scale ? `.${fraction}` : ''}`;
  }

  /** Only a decimal of the same scale reads losslessly; its decoded value is already a string. */
  protected override _resolve(type: avro.Type): ((value: unknown) => unknown) | undefined {
    if (type instanceof DecimalType && type.scale === this.scale) return (value) => value;
    return undefined;
  }

  override random(): never {
    const digits = Array.from({ length: this.precision }, () => Math.floor(Math.random() * 10)).join('');
    const whole = digits.slice(0, this.precision - this.scale) || '0';
    const fraction = digits.slice(this.precision - this.scale);
    return `${Math.random() < 0.5 ? '-' : ''}${whole}${this.scale ? `.${fraction}` : ''}` as never;
  }

  protected override _export(exported: avro.Schema): void {
    const schema = exported as Record<string, unknown>;
    schema.precision = this.precision;
    schema.scale = this.scale;
  }
}

/** `uuid` on string: validated on encode, plain string in JavaScript. */
export class UuidType extends avro.types.LogicalType {
  protected override _toValue(value: unknown): string | undefined {
    return typeof value === 'string' && UUID.test(value) ? value : undefined;
  }

  protected override _fromValue(value: string): string {
    return value;
  }

  /** A plain string or a uuid writer can be read as uuid (the spec's string underlying type). */
  protected override _resolve(type: avro.Type): ((value: unknown) => unknown) | undefined {
    const name = (type as AnyType).typeName;
    if (name === 'string' || type instanceof UuidType) return (value) => value;
    return undefined;
  }

  override random(): never {
    return randomUUID() as never;
  }
}

/** The avsc options every Type in the hub is built with, so all parts agree on representations. */
export function avscOptions(): AvscOptions {
  return { logicalTypes: { decimal: DecimalType, uuid: UuidType } } as AvscOptions;
}

/** Options of avsc's Type.forSchema (the typings don't export the interface). */
export type AvscOptions = NonNullable<Parameters<typeof avro.Type.forSchema>[1]>;
