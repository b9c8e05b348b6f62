import { HubError } from '../../core/errors.ts';
import type { HttpClient, HttpRequest, HttpResponse } from '../runtime/http-client.ts';
import type { SourceCursor, SourcePage } from '../runtime/source-types.ts';

/**
 * The OData v4 protocol as the ERP connector uses it (SAP S/4HANA, Dynamics 365, CAP): keyset
 * change queries on a modification stamp, reads by key with ETags, creates with POST and
 * conditional updates with PATCH + If-Match. Writes carry the OData Repeatable Requests header
 * (`Repeatability-Request-ID`, configured as the client's idempotency header) so a retry is
 * answered, not applied twice.
 */
export interface ODataEntity {
  [field: string]: unknown;
  '@odata.etag'?: string;
}

/**
 * OData v4 JSON with `IEEE754Compatible=true`: Edm.Decimal and Edm.Int64 travel as strings, so
 * amounts and quantities arrive and leave without the rounding of a JSON number (the JSON
 * format's default writes them as numbers). Reads ask for it; writes declare their bodies so.
 */
const ODATA_JSON = 'application/json;IEEE754Compatible=true';

/** A request of the OData protocol: asks for ODATA_JSON, and declares a body as ODATA_JSON. */
export function odataRequest<T>(http: HttpClient, req: HttpRequest): Promise<HttpResponse<T>> {
  return http.request<T>({
    ...req,
    headers: {
      accept: ODATA_JSON,
      ...(req.body !== undefined ? { 'content-type': ODATA_JSON } : {}),
      ...req.headers,
    },
  });
}

interface ODataCollection {
  value: ODataEntity[];
  '@odata.nextLink'?: string;
}

/** An OData literal: strings quoted with doubled quotes, instants and numbers bare. */
export function odataLiteral(value: string, kind: 'string' | 'instant'): string {
  if (kind === 'instant') {
    if (Number.isNaN(Date.parse(value))) throw new HubError('ODATA_BAD_LITERAL', `not an instant: ${value}`);
    return value;
  }
  return `'${value.replace(/'/g, "''")}'`;
}

/** A key predicate such as `('SO-1')`. */
export function keyPredicate(key: string): string {
  return `(${encodeURIComponent(odataLiteral(key, 'string'))})`;
}

export interface ChangeQuery {
  entitySet: string;
  stampField: string;
  keyField: string;
  expand?: string;
  select?: string[];
  /** Records per request ($top); the next page is queried from the cursor (keyset paging). */
  pageSize: number;
}

/**
 * Reads changes after `cursor` in (stamp, key) order. Each page is a fresh keyset query rather
 * than the server's `@odata.nextLink`: CAP's and SAP's next links are `$skiptoken` offsets, and an
 * offset moves when a record changes mid-sync, which would skip a record for good.
 */
export async function* readODataChanges(
  http: HttpClient,
  q: ChangeQuery,
  cursor: SourceCursor | undefined,
  signal: AbortSignal,
): AsyncGenerator<SourcePage> {
  let position = cursor;
  for (;;) {
    const query: Record<string, string | number> = {
      $orderby: `${q.stampField},${q.keyField}`,
      $top: q.pageSize,
    };
    if (position) {
      const s = odataLiteral(position.stamp, 'instant');
      query.$filter = `${q.stampField} gt ${s} or (${q.stampField} eq ${s} and ${q.keyField} gt ${odataLiteral(position.key, 'string')})`;
    }
    if (q.expand) query.$expand = q.expand;
    if (q.select) query.$select = q.select.join(',');
    const res = await odataRequest<ODataCollection>(http, { path: q.entitySet, query, signal });
    const rows = res.body?.value;
    if (!Array.isArray(rows)) {
      throw new HubError('ODATA_BAD_ANSWER', `${q.entitySet}: answer has no value array`, {
        retriable: true,
      });
    }
    if (rows.length === 0) return;
    const records = rows.map((raw) => {
      const key = raw[q.keyField];
      const stamp = raw[q.stampField];
      if (typeof key !== 'string' || typeof stamp !== 'string') {
        throw new HubError(
          'ODATA_BAD_ANSWER',
          `${q.entitySet}: a row lacks ${q.keyField} or ${q.stampField}`,
          { retriable: false },
        );
      }
      return { key, stamp, raw };
    });
    const last = records[records.length - 1]!;
    position = { stamp: last.stamp, key: last.key };
    yield { records, cursor: position };
    if (rows.length < q.pageSize && !res.body['@odata.nextLink']) return;
  }
}

/** Reads one entity by key; undefined when it does not exist. */
export async function readODataEntity(
  http: HttpClient,
  entitySet: string,
  key: string,
  signal?: AbortSignal,
): Promise<ODataEntity | undefined> {
  try {
    const res = await odataRequest<ODataEntity>(http, {
      path: `${entitySet}${keyPredicate(key)}`,
      ...(signal ? { signal } : {}),
    });
    return res.body;
  } catch (err) {
    if ((err as { status?: number }).status === 404) return undefined;
    throw err;
  }
}
