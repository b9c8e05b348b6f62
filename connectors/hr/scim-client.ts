import { HubError } from '../../core/errors.ts';
import type { HttpClient } from '../runtime/http-client.ts';
import type { SourceCursor, SourcePage } from '../runtime/source-types.ts';

/**
 * SCIM 2.0 (RFC 7644) as the HR connector uses it: `filter=meta.lastModified ge "..."` sorted by
 * meta.lastModified with startIndex/count paging, lookups by userName, POST to create and
 * PatchOp messages to update or deactivate.
 */
export const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SCIM_PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface ScimResource {
  id: string;
  meta: { lastModified: string; created?: string; resourceType?: string };
  [attribute: string]: unknown;
}

interface ListResponse {
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources?: ScimResource[];
}

/** A SCIM filter string literal. */
export function scimString(value: string): string {
  return JSON.stringify(value);
}

/**
 * Reads changes after `cursor`. Each page asks again from the cursor's stamp (`ge`), skipping the
 * records at that stamp already read (`cursor.skip`, via startIndex): plain startIndex paging
 * over a changing result would shift and skip a record whenever one changes mid-sync.
 */
export async function* readScimChanges(
  http: HttpClient,
  q: { resource: 'Users' | 'Groups'; pageSize: number },
  cursor: SourceCursor | undefined,
  signal: AbortSignal,
): AsyncGenerator<SourcePage> {
  let position = cursor;
  for (;;) {
    const query: Record<string, string | number> = {
      sortBy: 'meta.lastModified',
      sortOrder: 'ascending',
      startIndex: 1 + (position?.skip ?? 0),
      count: q.pageSize,
    };
    if (position) query.filter = `meta.lastModified ge ${scimString(position.stamp)}`;
    const res = await http.request<ListResponse>({ path: q.resource, query, signal });
    // RFC 7644 says a startIndex past the end gives an empty page; scimmy returns the results
    // unsliced instead, so the client checks totalResults itself.
    if (typeof res.body?.totalResults === 'number' && res.body.totalResults < Number(query.startIndex))
      return;
    const rows = res.body?.Resources ?? [];
    if (!Array.isArray(rows))
      throw new HubError('SCIM_BAD_ANSWER', `${q.resource}: Resources is not a list`, { retriable: true });
    if (rows.length === 0) return;
    const records = rows.map((raw) => {
      const stamp = raw.meta?.lastModified;
      if (typeof raw.id !== 'string' || typeof stamp !== 'string') {
        throw new HubError('SCIM_BAD_ANSWER', `${q.resource}: a resource lacks id or meta.lastModified`);
      }
      return { key: raw.id, stamp, raw };
    });
    const last = records[records.length - 1]!;
    const atLast = records.filter((r) => r.stamp === last.stamp).length;
    const skip = position && last.stamp === position.stamp ? (position.skip ?? 0) + records.length : atLast;
    position = { stamp: last.stamp, key: last.key, skip };
    yield { records, cursor: position };
    if (rows.length < q.pageSize) return;
  }
}

/** Finds a user by userName; undefined when there is none. */
export async function findUser(
  http: HttpClient,
  userName: string,
  signal?: AbortSignal,
): Promise<ScimResource | undefined> {
  const res = await http.request<ListResponse>({
    path: 'Users',
    query: { filter: `userName eq ${scimString(userName)}`, count: 2 },
    ...(signal ? { signal } : {}),
  });
  return res.body?.Resources?.[0];
}
