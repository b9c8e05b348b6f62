import { HubError } from '../../core/errors.ts';
import type { HttpClient } from '../runtime/http-client.ts';
import type { SourceCursor, SourcePage } from '../runtime/source-types.ts';

/**
 * Salesforce's REST API as the CRM connector uses it: SOQL queries whose results page through
 * `nextRecordsUrl` (server-side query locators, a snapshot of the result, so following them is
 * safe while records change), a `SystemModstamp` cursor, and upsert by external id.
 */
export interface SoqlRecord {
  attributes?: { type: string; url: string };
  Id: string;
  SystemModstamp: string;
  [field: string]: unknown;
}

interface QueryAnswer {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: SoqlRecord[];
}

/** A SOQL string literal. */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A SOQL datetime literal (unquoted ISO 8601). */
export function soqlDateTime(value: string): string {
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (Number.isNaN(ms)) throw new HubError('SOQL_BAD_LITERAL', `not a datetime: ${value}`);
  return new Date(ms).toISOString();
}

export interface SoqlChangeQuery {
  apiVersion: string;
  object: string;
  fields: string[];
  pageSize: number;
}

/** Reads the changes after `cursor` with one SOQL query, following nextRecordsUrl page by page. */
export async function* readSoqlChanges(
  http: HttpClient,
  q: SoqlChangeQuery,
  cursor: SourceCursor | undefined,
  signal: AbortSignal,
): AsyncGenerator<SourcePage> {
  const fields = [...new Set(['Id', 'SystemModstamp', ...q.fields])];
  let soql = `SELECT ${fields.join(', ')} FROM ${q.object}`;
  if (cursor) {
    const s = soqlDateTime(cursor.stamp);
    soql += ` WHERE SystemModstamp > ${s} OR (SystemModstamp = ${s} AND Id > ${soqlString(cursor.key)})`;
  }
  soql += ' ORDER BY SystemModstamp, Id';
  const headers = { 'sforce-query-options': `batchSize=${q.pageSize}` };
  let next: string | undefined = `/services/data/v${q.apiVersion}/query`;
  let first = true;
  while (next) {
    const res: { body: QueryAnswer } = await http.request<QueryAnswer>({
      path: next,
      headers,
      signal,
      ...(first ? { query: { q: soql } } : {}),
    });
    first = false;
    const rows = res.body?.records;
    if (!Array.isArray(rows))
      throw new HubError('SOQL_BAD_ANSWER', `${q.object}: answer has no records`, { retriable: true });
    if (rows.length === 0) return;
    const records = rows.map((raw) => ({ key: raw.Id, stamp: raw.SystemModstamp, raw }));
    const last = records[records.length - 1]!;
    yield { records, cursor: { stamp: last.stamp, key: last.key } };
    next = res.body.done ? undefined : res.body.nextRecordsUrl;
  }
}

export interface UpsertAnswer {
  id: string;
  success: boolean;
  created: boolean;
  errors: unknown[];
}

/** Upserts one sObject by external id (PATCH .../sobjects/<type>/<field>/<value>). */
export async function upsertByExternalId(
  http: HttpClient,
  options: {
    apiVersion: string;
    object: string;
    field: string;
    value: string;
    body: Record<string, unknown>;
    idempotencyKey: string;
    signal: AbortSignal;
  },
) {
  const path = `/services/data/v${options.apiVersion}/sobjects/${options.object}/${options.field}/${encodeURIComponent(options.value)}`;
  return http.request<UpsertAnswer>({
    method: 'PATCH',
    path,
    body: options.body,
    idempotencyKey: options.idempotencyKey,
    signal: options.signal,
  });
}
