/**
 * Decimal strings to unscaled integers and two's-complement bytes, without regexes, string
 * building or a Buffer per value: the serde encodes dozens of decimals per event (a 1 KB sales
 * order has 49), so this is its hot path. Values of at most 15 significant digits are exact in a
 * double (< 2^53) and stay numbers; longer ones go through BigInt, as before.
 */

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;
/** Up to this many significant digits the unscaled value is an exact double. */
const MAX_EXACT_DIGITS = 15;

/** The larger-number path: the string is already known to be a valid decimal for `scale`. */
function bigUnscaled(value: string, scale: number): bigint {
  const [, sign = '', whole = '', fraction = ''] = DECIMAL.exec(value) ?? [];
  const digits = `${whole}${fraction.slice(0, scale).padEnd(scale, '0')}`;
  return BigInt(digits) * (sign === '-' ? -1n : 1n);
}

/**
 * The unscaled integer of a decimal string (`"-12.5"` with scale 2 is -1250): a number when it
 * has at most 15 significant digits, else a bigint; undefined when `value` is not a string of the
 * form `[+-]digits[.digits]`, has non-zero digits beyond `scale`, or more than `precision` digits
 * once scaled (leading zeros don't count). Never -0.
 */
export function unscaledDecimal(
  value: unknown,
  precision: number,
  scale: number,
): number | bigint | undefined {
  if (typeof value !== 'string') return undefined;
  const end = value.length;
  const first = value.charCodeAt(0);
  const negative = first === 45; // '-'
  let i = negative || first === 43 ? 1 : 0; // '+'
  const wholeStart = i;
  let n = 0;
  let significant = 0;
  for (; i < end; i += 1) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    if (significant > 0 || d !== 0) {
      significant += 1;
      n = n * 10 + d;
    }
  }
  if (i === wholeStart) return undefined;
  let fractionDigits = 0;
  if (i < end) {
    if (value.charCodeAt(i) !== 46) return undefined; // '.'
    i += 1;
    if (i === end) return undefined;
    for (; i < end; i += 1) {
      const d = value.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return undefined;
      if (fractionDigits < scale) {
        fractionDigits += 1;
        if (significant > 0 || d !== 0) {
          significant += 1;
          n = n * 10 + d;
        }
      } else if (d !== 0) {
        return undefined; // would lose a digit
      }
    }
  }
  const padding = scale - fractionDigits;
  if (significant > 0) significant += padding;
  if (significant > precision) return undefined;
  if (significant > MAX_EXACT_DIGITS) return bigUnscaled(value, scale);
  if (padding > 0) n *= 10 ** padding; // exact: the product has at most 15 digits
  return negative && n !== 0 ? -n : n;
}

/** Bytes of the minimal two's-complement form of an integer below 2^53 in magnitude. */
export function smallByteLength(n: number): number {
  const m = n < 0 ? -n - 1 : n;
  let len = 1;
  for (let limit = 128; m >= limit; limit *= 256) len += 1;
  return len;
}

/**
 * Writes `n` (magnitude below 2^53) big-endian two's-complement into `width` bytes of `buf` at
 * `pos`, sign-extended; the caller checked that `width >= smallByteLength(n)`.
 */
export function writeSmall(buf: Uint8Array, pos: number, width: number, n: number): void {
  const negative = n < 0;
  // Two's complement of a negative n is the bitwise NOT of |n| - 1.
  let m = negative ? -n - 1 : n;
  for (let i = pos + width - 1; i >= pos; i -= 1) {
    const b = m % 256;
    buf[i] = negative ? 255 - b : b;
    m = (m - b) / 256;
  }
}
