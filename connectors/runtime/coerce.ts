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
