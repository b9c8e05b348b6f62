import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import { smallByteLength, unscaledDecimal, writeSmall } from './decimal-digits.ts';

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

/** Hex digits by char code (either case), for the uuid check. */
const HEX = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/**
 * `8-4-4-4-12` hex digits in either case (RFC 9562's text form), checked by char code: encodes
 * check two uuids per event, and a regular expression cost more than the rest of their write.
 */
export function isUuid(value: string): boolean {
  if (value.length !== 36) return false;
  for (let i = 0; i < 36; i += 1) {
    const c = value.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (c >= 128 || HEX[c] !== 1) return false;
  }
  return true;
}

type AnyType = avro.Type & { typeName: string };

/** The part of avsc's (untyped) read/write cursor the decimal type uses. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  writeLong(n: number): void;
  writeBytes(buf: Buffer): void;
  writeFixed(buf: Buffer, len: number): void;
}

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
    const n = unscaledDecimal(value, this.precision, this.scale);
    if (n === undefined) return undefined;
    if (typeof n === 'bigint') return bigintToBytes(n, this.fixedSize);
    const len = smallByteLength(n);
    const width = this.fixedSize ?? len;
    if (len > width) return undefined;
    const buf = Buffer.allocUnsafe(width);
    writeSmall(buf, 0, width, n);
    return buf;
  }

  /**
   * avsc's write hook (its LogicalType writes `_toValue`'s Buffer through the underlying type):
   * the same bytes, written straight into the output, with no Buffer per value.
   */
  _write(tap: Tap, value: unknown): void {
    const n = unscaledDecimal(value, this.precision, this.scale);
    if (n === undefined) throw this.invalid(value);
    if (typeof n === 'bigint') {
      const buf = bigintToBytes(n, this.fixedSize);
      if (!buf) throw this.invalid(value);
      if (this.fixedSize === undefined) tap.writeBytes(buf);
      else tap.writeFixed(buf, this.fixedSize);
      return;
    }
    const len = smallByteLength(n);
    const width = this.fixedSize ?? len;
    if (len > width) throw this.invalid(value);
    if (this.fixedSize === undefined) tap.writeLong(width);
    const pos = tap.pos;
    tap.pos += width;
    // As avsc's own writes: past the end only the position moves, the caller sees the overflow.
    if (tap.pos <= tap.buf.length) writeSmall(tap.buf, pos, width, n);
  }

  /**
   * avsc's validity check (isValid, and the choice of an unwrapped union's branch): the verdict
   * of `_toValue`, without making the bytes.
   */
  _check(value: unknown, _flags?: unknown, hook?: (value: unknown, type: avro.Type) => void): boolean {
    const n = unscaledDecimal(value, this.precision, this.scale);
    const ok =
      n === undefined
        ? false
        : typeof n === 'bigint'
          ? bigintToBytes(n, this.fixedSize) !== undefined
          : this.fixedSize === undefined || smallByteLength(n) <= this.fixedSize;
    if (!ok && hook) hook(value, this);
    return ok;
  }

  private invalid(value: unknown): Error {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    const fixed = this.fixedSize === undefined ? '' : ` in fixed(${this.fixedSize})`;
    return new Error(`invalid decimal(${this.precision}, ${this.scale})${fixed}: ${shown}`);
  }

  protected override _fromValue(buf: Buffer): string {
    return this.fromBytes(buf, 0, buf.length);
  }

  /**
   * avsc's read hook (its LogicalType reads a Buffer through the underlying type, then
   * `_fromValue`): the same string, read in place, with no Buffer per value.
   */
  _read(tap: Tap): string {
    const len = this.fixedSize ?? tap.readLong();
    const start = tap.pos;
    const end = start + len;
    // Where avsc's bytes read returns nothing (negative length, past the end), the conversion
    // threw: the serde reports the record as corrupt, as before.
    if (len < 0 || end > tap.buf.length) throw new Error(`decimal of ${len} bytes runs past the record`);
    tap.pos = end;
    return this.fromBytes(tap.buf, start, end);
  }

  private fromBytes(buf: Buffer, start: number, end: number): string {
    // Up to 6 bytes (|n| < 2^47) the unscaled value is read as a number: no hex string, no BigInt.
    const len = end - start;
    const unscaled =
      len === 0 ? 0 : len <= 6 ? buf.readIntBE(start, len) : bytesToBigint(buf.subarray(start, end));
    const negative = unscaled < 0;
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
    return typeof value === 'string' && isUuid(value) ? value : undefined;
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
