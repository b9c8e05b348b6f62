import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFaultGate, type FaultGate } from '../faults.ts';
import { readOnlyFields, sobjectTypes } from './objects.ts';
import { matches, parseSoql, type SoqlError, sortRecords } from './soql.ts';

/**
 * The demo CRM: a server that follows Salesforce's REST conventions closely enough for a real
 * connector: OAuth2 client-credentials token endpoint, `/services/data/vXX.X/query?q=SOQL` with
 * `nextRecordsUrl` paging (batch size from `Sforce-Query-Options`), `SystemModstamp`, and upsert
 * by external id (`PATCH /sobjects/Account/ExtId__c/<value>`). Errors are Salesforce-shaped
 * arrays of `{ message, errorCode, fields }`. Writes honour an `Idempotency-Key` header.
 */
export interface CrmServer {
  /** Instance URL, e.g. `http://127.0.0.1:4713`. */
  readonly url: string;
  readonly apiVersion: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly faults: FaultGate;
  /** Records by sObject type, then by Id. */
  readonly records: Map<string, Map<string, SObjectRecord>>;
  /** Tokens issued so far (tests check refresh behaviour). */
  readonly tokensIssued: { count: number };
  readonly writes: { count: number };
  /** Changes applied per `<sObject>:<Id>` (direct puts and upserts). */
  readonly changes: Map<string, number>;
  /** Inserts or updates a record directly, as a CRM user would; returns it. */
  put(type: string, fields: Record<string, unknown>, id?: string): SObjectRecord;
  /** Makes every issued token invalid (as a session timeout would). */
  expireTokens(): void;
  close(): Promise<void>;
}

export type SObjectRecord = Record<string, unknown> & { Id: string; SystemModstamp: string };

/**
 * The CRM connector's `http` section for this server: its URL and an OAuth2 client-credentials
 * login with the demo's own well-known secret (a real CRM's secret comes from { env } or { file }).
 */
export function crmConnectorHttp(crm: Pick<CrmServer, 'url' | 'clientId' | 'clientSecret'>) {
  return {
    endpoints: { urls: [crm.url] },
    auth: {
      type: 'oauth2-client-credentials',
      tokenUrl: `${crm.url}/services/oauth2/token`,
      clientId: crm.clientId,
      clientSecret: { value: crm.clientSecret },
    },
  };
}

export interface CrmServerOptions {
  port?: number;
  host?: string;
  apiVersion?: string;
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of an access token in seconds. */
  tokenTtlSeconds?: number;
  /** A long-lived token accepted besides OAuth ones (an integration user's session; lets replicas share one). */
  staticToken?: string;
}

/** Starts the CRM on a free loopback port (or `port`). */
export async function startCrmServer(options: CrmServerOptions = {}): Promise<CrmServer> {
  const apiVersion = options.apiVersion ?? '60.0';
  const clientId = options.clientId ?? 'crm-demo-client';
  const clientSecret = options.clientSecret ?? 'crm-demo-secret';
  const ttl = options.tokenTtlSeconds ?? 3600;
  const records = new Map<string, Map<string, SObjectRecord>>(
    Object.keys(sobjectTypes).map((t) => [t, new Map()]),
  );
  const tokens = new Map<string, number>();
  const tokensIssued = { count: 0 };
  const writes = { count: 0 };
  const locators = new Map<string, { rows: Record<string, unknown>[]; total: number }>();
  const idempotent = new Map<string, { status: number; body: string }>();
  const changes = new Map<string, number>();
  let counter = 0;
  let lastStamp = 0;
  const stamp = () => {
    lastStamp = Math.max(Date.now(), lastStamp + 1);
    return new Date(lastStamp).toISOString();
  };

  const put = (type: string, fields: Record<string, unknown>, id?: string): SObjectRecord => {
    const table = records.get(type);
    const spec = sobjectTypes[type];
    if (!table || !spec) throw new Error(`unknown sObject ${type}`);
    const now = stamp();
    const existing = id ? table.get(id) : undefined;
    const rec: SObjectRecord = existing
      ? { ...existing, ...fields, LastModifiedDate: now, SystemModstamp: now }
      : {
          ...Object.fromEntries(spec.fields.map((f) => [f, null])),
          ...fields,
          Id: id ?? `${spec.prefix}5g0000${String(++counter).padStart(9, '0')}`,
          CreatedDate: now,
          LastModifiedDate: now,
          SystemModstamp: now,
          IsDeleted: false,
        };
    table.set(rec.Id, rec);
    changes.set(`${type}:${rec.Id}`, (changes.get(`${type}:${rec.Id}`) ?? 0) + 1);
    return rec;
  };

  const base = `/services/data/v${apiVersion}`;
  const send = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const sfError = (
    res: ServerResponse,
    status: number,
    errorCode: string,
    message: string,
    fields: string[] = [],
  ) => send(res, status, [{ message, errorCode, fields }]);

  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  const page = (res: ServerResponse, rows: Record<string, unknown>[], total: number, batch: number) => {
    const head = rows.slice(0, batch);
    const rest = rows.slice(batch);
    let nextRecordsUrl: string | undefined;
    if (rest.length > 0) {
      const locator = `01g${randomBytes(6).toString('hex')}-${total - rest.length}`;
      locators.set(locator, { rows: rest, total });
      nextRecordsUrl = `${base}/query/${locator}`;
    }
    send(res, 200, {
      totalSize: total,
      done: !nextRecordsUrl,
      ...(nextRecordsUrl ? { nextRecordsUrl } : {}),
      records: head,
    });
  };

  const batchSize = (req: IncomingMessage) => {
    const m = /batchSize=(\d+)/.exec(String(req.headers['sforce-query-options'] ?? ''));
    // Salesforce's floor is 200; the demo allows smaller batches so tests page through little data.
    return Math.min(Math.max(Number(m?.[1] ?? 2000), 1), 2000);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://crm.invalid');
    if (req.method === 'POST' && url.pathname === '/services/oauth2/token') {
      const form = new URLSearchParams(await readBody(req));
      if (form.get('grant_type') !== 'client_credentials') {
        return send(res, 400, {
          error: 'unsupported_grant_type',
          error_description: 'grant type not supported',
        });
      }
      if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
        return send(res, 400, { error: 'invalid_client', error_description: 'invalid client credentials' });
      }
      const token = `00D${randomBytes(16).toString('hex')}`;
      tokens.set(token, Date.now() + ttl * 1000);
      tokensIssued.count += 1;
      return send(res, 200, {
        access_token: token,
        token_type: 'Bearer',
        instance_url: `http://${req.headers.host}`,
        issued_at: String(Date.now()),
        expires_in: ttl,
      });
    }
    if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, { status: 'UP' });
    if (!url.pathname.startsWith(`${base}/`))
      return sfError(res, 404, 'NOT_FOUND', 'The requested resource does not exist');
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const expires =
      token && token === options.staticToken
        ? Number.MAX_SAFE_INTEGER
        : token
          ? tokens.get(token)
          : undefined;
    if (!expires || expires < Date.now())
      return sfError(res, 401, 'INVALID_SESSION_ID', 'Session expired or invalid');

    const rest = url.pathname
      .slice(base.length + 1)
      .split('/')
      .map(decodeURIComponent);
    if (req.method === 'GET' && rest[0] === 'query' && rest.length === 1) {
      let query: ReturnType<typeof parseSoql>;
      try {
        query = parseSoql(url.searchParams.get('q') ?? '');
      } catch (err) {
        return sfError(res, 400, 'MALFORMED_QUERY', (err as SoqlError).message);
      }
      const spec = sobjectTypes[query.object];
      if (!spec) return sfError(res, 400, 'INVALID_TYPE', `sObject type '${query.object}' is not supported`);
      const unknown = query.fields.find((f) => !spec.fields.includes(f));
      if (unknown)
        return sfError(res, 400, 'INVALID_FIELD', `No such column '${unknown}' on entity '${query.object}'`);
      let rows = [...(records.get(query.object)?.values() ?? [])].filter(
        (r) => !query.where || matches(r, query.where),
      );
      rows = sortRecords(rows, query.orderBy);
      if (query.limit !== undefined) rows = rows.slice(0, query.limit);
      const shaped = rows.map((r) => ({
        attributes: { type: query.object, url: `${base}/sobjects/${query.object}/${r.Id}` },
        ...Object.fromEntries(query.fields.map((f) => [f, r[f] ?? null])),
      }));
      return page(res, shaped, shaped.length, batchSize(req));
    }
    if (req.method === 'GET' && rest[0] === 'query' && rest.length === 2) {
      const cursor = locators.get(rest[1]!);
      if (!cursor) return sfError(res, 400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
      locators.delete(rest[1]!);
      return page(res, cursor.rows, cursor.total, batchSize(req));
    }
    if (rest[0] === 'sobjects' && rest.length >= 3) {
      const type = rest[1]!;
      const spec = sobjectTypes[type];
      const table = records.get(type);
      if (!spec || !table) return sfError(res, 404, 'NOT_FOUND', `sObject type '${type}' is not supported`);
      if (req.method === 'GET' && rest.length === 3) {
        const rec = table.get(rest[2]!);
        if (!rec) return sfError(res, 404, 'NOT_FOUND', 'The requested resource does not exist');
        return send(res, 200, { attributes: { type, url: `${base}/sobjects/${type}/${rec.Id}` }, ...rec });
      }
      if (req.method === 'PATCH' && rest.length === 4) {
        writes.count += 1;
        const key = req.headers['idempotency-key'];
        const idemKey = typeof key === 'string' ? `${type}:${key}` : undefined;
        const replay = idemKey ? idempotent.get(idemKey) : undefined;
        if (replay) {
          res.writeHead(replay.status, {
            'content-type': 'application/json;charset=UTF-8',
            'idempotent-replayed': 'true',
          });
          res.end(replay.body);
          return;
        }
        const field = rest[2]!;
        const value = rest[3]!;
        if (!spec.externalIds.includes(field)) {
          return sfError(res, 400, 'INVALID_FIELD', `${field} is not an External ID field on ${type}`, [
            field,
          ]);
        }
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(await readBody(req)) as Record<string, unknown>;
          if (typeof body !== 'object' || body === null || Array.isArray(body))
            throw new Error('not an object');
        } catch {
          return sfError(res, 400, 'JSON_PARSER_ERROR', 'The request body is not a JSON object');
        }
        const bad = Object.keys(body).find((f) => !spec.fields.includes(f) && f !== 'attributes');
        if (bad)
          return sfError(res, 400, 'INVALID_FIELD', `No such column '${bad}' on sobject of type ${type}`, [
            bad,
          ]);
        const readOnly = Object.keys(body).find((f) => readOnlyFields.has(f));
        if (readOnly)
          return sfError(res, 400, 'INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to update ${readOnly}`, [
            readOnly,
          ]);
        const { attributes: _ignored, ...fields } = body;
        const existing = [...table.values()].filter((r) => r[field] === value);
        if (existing.length > 1)
          return sfError(res, 300, 'MULTIPLE_CHOICES', `more than one ${type} has ${field}=${value}`);
        const missing = existing.length === 0 ? spec.required.find((f) => fields[f] == null) : undefined;
        if (missing) {
          return sfError(res, 400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing}]`, [
            missing,
          ]);
        }
        const rec = put(type, { ...fields, [field]: value }, existing[0]?.Id);
        const status = existing.length === 0 ? 201 : 200;
        const answer = JSON.stringify({
          id: rec.Id,
          success: true,
          errors: [],
          created: existing.length === 0,
        });
        if (idemKey) idempotent.set(idemKey, { status, body: answer });
        res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
        res.end(answer);
        return;
      }
    }
    return sfError(res, 404, 'NOT_FOUND', 'The requested resource does not exist');
  };

  const faults = createFaultGate();
  const server: Server = createServer(
    faults.wrap((req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sfError(res, 500, 'UNKNOWN_EXCEPTION', String(err));
      });
    }),
  );
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  let closed = false;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    apiVersion,
    clientId,
    clientSecret,
    faults,
    records,
    tokensIssued,
    writes,
    changes,
    put,
    expireTokens: () => tokens.clear(),
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
