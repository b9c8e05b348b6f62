/**
 * The small part of SOQL the demo CRM understands: enough for a connector's incremental query
 * `SELECT a, b FROM Account WHERE SystemModstamp > 2024-01-01T00:00:00.000Z OR (SystemModstamp =
 * ... AND Id > '...') ORDER BY SystemModstamp, Id LIMIT 500`. Anything else is MALFORMED_QUERY,
 * as Salesforce answers.
 */
export type Value = string | number | boolean | null | Date;
export type Condition =
  | { kind: 'cmp'; field: string; op: '=' | '!=' | '>' | '<' | '>=' | '<='; value: Value }
  | { kind: 'and' | 'or'; left: Condition; right: Condition };

export interface SoqlQuery {
  fields: string[];
  object: string;
  where: Condition | undefined;
  orderBy: { field: string; descending: boolean }[];
  limit: number | undefined;
}

export class SoqlError extends Error {}

const tokenPattern =
  /\s*(?:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))|('(?:[^'\\]|\\.)*')|(!=|>=|<=|=|>|<|\(|\)|,)|([A-Za-z_][\w.]*)|(-?\d+(?:\.\d+)?))/y;

type Token = { type: 'date' | 'string' | 'op' | 'word' | 'number'; text: string };

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  tokenPattern.lastIndex = 0;
  let pos = 0;
  while (pos < q.length) {
    if (/^\s*$/.test(q.slice(pos))) break;
    tokenPattern.lastIndex = pos;
    const m = tokenPattern.exec(q);
    if (!m) throw new SoqlError(`unexpected token at position ${pos}: ${q.slice(pos, pos + 20)}`);
    pos = tokenPattern.lastIndex;
    if (m[1]) tokens.push({ type: 'date', text: m[1] });
    else if (m[2]) tokens.push({ type: 'string', text: m[2].slice(1, -1).replace(/\\(.)/g, '$1') });
    else if (m[3]) tokens.push({ type: 'op', text: m[3] });
    else if (m[4]) tokens.push({ type: 'word', text: m[4] });
    else if (m[5]) tokens.push({ type: 'number', text: m[5] });
  }
  return tokens;
}

/** Parses one SOQL statement. */
export function parseSoql(q: string): SoqlQuery {
  const t = tokenize(q);
  let i = 0;
  const peek = () => t[i];
  const isWord = (w: string) => peek()?.type === 'word' && peek()!.text.toUpperCase() === w;
  const expectWord = (w: string) => {
    if (!isWord(w)) throw new SoqlError(`expected ${w} near ${peek()?.text ?? 'end of query'}`);
    i++;
  };
  const ident = (): string => {
    const tok = t[i++];
    if (tok?.type !== 'word')
      throw new SoqlError(`expected a field name near ${tok?.text ?? 'end of query'}`);
    return tok.text;
  };

  expectWord('SELECT');
  const fields = [ident()];
  while (peek()?.text === ',') {
    i++;
    fields.push(ident());
  }
  expectWord('FROM');
  const object = ident();

  const value = (): Value => {
    const tok = t[i++];
    if (!tok) throw new SoqlError('expected a value at end of query');
    if (tok.type === 'date') return new Date(tok.text);
    if (tok.type === 'string') return tok.text;
    if (tok.type === 'number') return Number(tok.text);
    const w = tok.text.toLowerCase();
    if (w === 'true' || w === 'false') return w === 'true';
    if (w === 'null') return null;
    throw new SoqlError(`expected a value near ${tok.text}`);
  };
  const primary = (): Condition => {
    if (peek()?.text === '(') {
      i++;
      const c = orExpr();
      if (t[i++]?.text !== ')') throw new SoqlError('missing )');
      return c;
    }
    const field = ident();
    const op = t[i++];
    if (op?.type !== 'op' || !['=', '!=', '>', '<', '>=', '<='].includes(op.text)) {
      throw new SoqlError(`expected a comparison after ${field}`);
    }
    return { kind: 'cmp', field, op: op.text as '=', value: value() };
  };
  const andExpr = (): Condition => {
    let left = primary();
    while (isWord('AND')) {
      i++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const orExpr = (): Condition => {
    let left = andExpr();
    while (isWord('OR')) {
      i++;
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  };

  let where: Condition | undefined;
  if (isWord('WHERE')) {
    i++;
    where = orExpr();
  }
  const orderBy: SoqlQuery['orderBy'] = [];
  if (isWord('ORDER')) {
    i++;
    expectWord('BY');
    do {
      if (peek()?.text === ',') i++;
      const field = ident();
      let descending = false;
      if (isWord('ASC') || isWord('DESC')) descending = t[i++]!.text.toUpperCase() === 'DESC';
      orderBy.push({ field, descending });
    } while (peek()?.text === ',');
  }
  let limit: number | undefined;
  if (isWord('LIMIT')) {
    i++;
    const n = value();
    if (typeof n !== 'number' || n < 0) throw new SoqlError('LIMIT takes a non-negative number');
    limit = n;
  }
  if (i < t.length) throw new SoqlError(`unexpected ${t[i]!.text}`);
  return { fields, object, where, orderBy, limit };
}

function compare(a: Value | undefined, b: Value): number {
  const norm = (v: Value | undefined) => (v instanceof Date ? v.getTime() : v);
  const x = norm(a);
  const y = norm(b);
  if (x === y) return 0;
  if (x === null || x === undefined) return -1;
  if (y === null || y === undefined) return 1;
  if (typeof x === 'string' && typeof y === 'number') return Date.parse(x) - y;
  return x < y ? -1 : 1;
}

/** True when `record` satisfies `c`; datetime fields may be stored as ISO strings. */
export function matches(record: Record<string, unknown>, c: Condition): boolean {
  if (c.kind === 'and') return matches(record, c.left) && matches(record, c.right);
  if (c.kind === 'or') return matches(record, c.left) || matches(record, c.right);
  const cmp = c as Extract<Condition, { kind: 'cmp' }>;
  let actual = record[cmp.field] as Value | undefined;
  if (cmp.value instanceof Date && typeof actual === 'string') actual = new Date(actual);
  const r = compare(actual, cmp.value);
  switch (cmp.op) {
    case '=':
      return r === 0;
    case '!=':
      return r !== 0;
    case '>':
      return r > 0;
    case '<':
      return r < 0;
    case '>=':
      return r >= 0;
    default:
      return r <= 0;
  }
}

/** Orders records the way ORDER BY asks. */
export function sortRecords<T extends Record<string, unknown>>(
  records: T[],
  orderBy: SoqlQuery['orderBy'],
): T[] {
  return records.sort((a, b) => {
    for (const { field, descending } of orderBy) {
      const r = compare(a[field] as Value, b[field] as Value);
      if (r !== 0) return descending ? -r : r;
    }
    return 0;
  });
}
