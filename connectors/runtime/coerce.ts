/**
 * Type coercion between what systems send (strings for decimals, ISO datetimes, "true") and how
 * the hub's Avro values look in JavaScript: decimals as fixed-scale strings, timestamp-millis as
 * numbers, dates as days since the epoch. Each function throws a plain message; the mapper adds
 * the field name.
 */
export type Coercion =
  | 'string'
  | 'int'
  | 'long'
  | 'double'
  | 'boolean'
  | 'decimal'
  | 'timestamp-millis'
  | 'date'
  | 'json';

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d+))?$/;
const DAY_MS = 86_400_000;

/** Normalises a decimal to exactly `scale` fraction digits; refuses to drop non-zero digits. */
export function toDecimalString(value: unknown, scale: number): string {
  if (typeof value === 'string') return plainDecimal(value, scale) ?? normaliseDecimal(value, scale);
  if (typeof value === 'number' && Number.isFinite(value)) {
    // A finite number prints as digits (the exponent form fails the plain scan below).
    return plainDecimal(String(value), scale) ?? normaliseDecimal(value, scale);
  }
  return normaliseDecimal(value, scale);
}

const ZEROS = '0'.repeat(32);

/**
 * The usual decimal text, normalised without regular expressions: an optional minus, a whole
 * part without leading zeros, and at most `scale` fraction digits. Returns undefined for
 * anything else (signs, spaces, leading zeros, exponents, excess digits, a negative zero), which
 * `normaliseDecimal` then handles or refuses; the two agree wherever this one answers
 * (test/connectors/mapping.test.ts compares them).
 */
function plainDecimal(text: string, scale: number): string | undefined {
  const n = text.length;
  let i = text.charCodeAt(0) === 45 ? 1 : 0; // '-'
  const negative = i === 1;
  const wholeStart = i;
  while (i < n && isDigit(text.charCodeAt(i))) i += 1;
  const wholeLength = i - wholeStart;
  if (wholeLength === 0 || (wholeLength > 1 && text.charCodeAt(wholeStart) === 48)) return undefined;
  let fractionLength = 0;
  if (i < n) {
    if (text.charCodeAt(i) !== 46 || scale === 0) return undefined; // '.'
    const fractionStart = i + 1;
    for (i = fractionStart; i < n; i += 1) if (!isDigit(text.charCodeAt(i))) return undefined;
    fractionLength = n - fractionStart;
    if (fractionLength === 0 || fractionLength > scale) return undefined;
  }
  // "-0" and "-0.00" normalise to an unsigned zero: the general path decides those.
  if (negative && wholeLength === 1 && text.charCodeAt(wholeStart) === 48) return undefined;
  const pad = scale - fractionLength;
  if (pad === 0) return text;
  if (pad > ZEROS.length) return undefined;
  return fractionLength === 0 ? `${text}.${ZEROS.slice(0, pad)}` : text + ZEROS.slice(0, pad);
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** `toDecimalString` for any input: the general path (trims, exponents, signs, extra zeros). */
export function normaliseDecimal(value: unknown, scale: number): string {
  const text =
    typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value).trim();
  if (typeof value !== 'number' && typeof value !== 'string')
    throw new Error(`expected a decimal, got ${typeof value}`);
  // Numbers like 1e-7 print in exponent form; toFixed with a margin gives their digits.
  const plain = /e/i.test(text) ? Number(text).toFixed(Math.min(100, scale + 6)) : text;
  const m = DECIMAL.exec(plain);
  if (!m || (m[2] === '' && m[3] === undefined)) throw new Error(`"${text}" is not a decimal number`);
  const [, sign = '', whole = '', fraction = ''] = m;
  if (fraction.length > scale && /[1-9]/.test(fraction.slice(scale))) {
    throw new Error(`${text} has more than ${scale} fraction digits`);
  }
  const f = fraction.slice(0, scale).padEnd(scale, '0');
  const w = whole.replace(/^0+(?=\d)/, '') || '0';
  const negative = sign === '-' && /[1-9]/.test(w + f);
  return `${negative ? '-' : ''}${w}${scale > 0 ? `.${f}` : ''}`;
}

/** Coerces `value` to `type`; throws with a reason when it cannot. */
export function coerce(value: unknown, type: Coercion, scale = 2): unknown {
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
        return String(value);
      throw new Error(`expected text, got ${describe(value)}`);
    case 'int':
    case 'long': {
      const n = typeof value === 'string' && /^[+-]?\d+$/.test(value.trim()) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n))
        throw new Error(`expected a whole number, got ${describe(value)}`);
      if (type === 'int' && (n > 2_147_483_647 || n < -2_147_483_648))
        throw new Error(`${n} does not fit a 32-bit int`);
      if (!Number.isSafeInteger(n)) throw new Error(`${n} is beyond a safe integer`);
      return n;
    }
    case 'double': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || Number.isNaN(n))
        throw new Error(`expected a number, got ${describe(value)}`);
      return n;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 1 || value === '1') return true;
      if (value === 'false' || value === 0 || value === '0') return false;
      throw new Error(`expected true or false, got ${describe(value)}`);
    case 'decimal':
      return toDecimalString(value, scale);
    case 'timestamp-millis': {
      if (value instanceof Date) return value.getTime();
      if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
      if (typeof value === 'string') {
        // Salesforce writes +0000 where ISO wants +00:00.
        const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
        if (!Number.isNaN(ms)) return ms;
      }
      throw new Error(`expected a date-time, got ${describe(value)}`);
    }
    case 'date': {
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
        const ms = Date.parse(`${value}T00:00:00Z`);
        if (!Number.isNaN(ms)) return Math.round(ms / DAY_MS);
      }
      throw new Error(`expected a date YYYY-MM-DD, got ${describe(value)}`);
    }
    case 'json':
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

/** The system-side form of a hub value, for pushes. */
export function uncoerce(
  value: unknown,
  type: Coercion,
  as: 'number' | 'string' | 'native' = 'native',
): unknown {
  if (value === null || value === undefined) return value;
  switch (type) {
    case 'decimal':
      return as === 'string' ? value : Number(value);
    case 'timestamp-millis':
      return as === 'number' ? value : new Date(value as number).toISOString();
    case 'date':
      return as === 'number' ? value : new Date((value as number) * DAY_MS).toISOString().slice(0, 10);
    case 'json':
      return typeof value === 'string' ? JSON.parse(value) : value;
    default:
      return value;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'an object';
  return `${typeof value} ${String(value)}`;
}
