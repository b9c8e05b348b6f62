import { z } from 'zod';
import { HubError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { markActiveSpanFailed, traceHeaders, withSpan } from '../../platform/index.ts';
import { type Authenticator, authConfigSchema, createAuthenticator } from './auth.ts';
import { backoffWithJitter, httpRetrySchema, parseRetryAfter, sleep } from './backoff.ts';
import {
  type BreakerState,
  createEndpointPool,
  type Endpoint,
  type EndpointPool,
  endpointsSchema,
} from './endpoint-pool.ts';

/** Everything a connector needs to reach one external system over HTTP. */
export const httpClientSchema = z.object({
  endpoints: endpointsSchema,
  auth: authConfigSchema,
  retry: httpRetrySchema,
  timeoutMs: z.number().int().positive().default(10_000).describe('Time limit of one attempt, body included'),
  idempotencyHeader: z
    .string()
    .default('Idempotency-Key')
    .describe('Header that carries the idempotency key of a write (Repeatability-Request-ID for OData)'),
  headers: z.record(z.string(), z.string()).default({}).describe('Extra headers on every request'),
});

export type HttpClientConfig = z.infer<typeof httpClientSchema>;
export type HttpClientInput = z.input<typeof httpClientSchema>;

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative to the endpoint's base URL, root-relative (`/services/...`) or absolute (a next link; re-based onto the picked endpoint). */
  path: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  /** JSON body (objects) or a raw string. */
  body?: unknown;
  /** Makes a write safe to retry: the system answers a retry with the first answer. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  endpoint: string;
  attempts: number;
}

export interface HttpClientEvents {
  breaker?(endpoint: string, state: BreakerState): void;
  retry?(info: { attempt: number; delayMs: number; error: HubError; endpoint: string }): void;
}

export interface HttpClient {
  request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>>;
  readonly pool: EndpointPool;
  readonly auth: Authenticator;
  start(): void;
  close(): void;
}

const safeMethods = new Set(['GET', 'PUT', 'DELETE']);

/** Joins a request path onto an endpoint base; absolute next links keep their path and query. */
export function resolveUrl(base: string, path: string): URL {
  if (/^https?:\/\//i.test(path)) {
    const abs = new URL(path);
    return new URL(`${abs.pathname}${abs.search}`, new URL(base).origin);
  }
  if (path.startsWith('/')) return new URL(path, new URL(base).origin);
  return new URL(`${base}/${path}`);
}

/** Builds a client: auth, retries with backoff and Retry-After, one breaker per endpoint. */
export function createHttpClient(
  input: HttpClientInput,
  deps: {
    fetch?: typeof fetch;
    logger?: Logger;
    events?: HttpClientEvents;
    env?: NodeJS.ProcessEnv;
    random?: () => number;
  } = {},
): HttpClient {
  const config = httpClientSchema.parse(input);
  const fetchImpl = deps.fetch ?? fetch;
  const auth = createAuthenticator(config.auth, { fetch: fetchImpl, ...(deps.env ? { env: deps.env } : {}) });
  const pool = createEndpointPool(config.endpoints, {
    fetch: fetchImpl,
    onBreaker: (endpoint, state) => {
      deps.logger?.warn({ endpoint, state }, 'circuit breaker changed');
      deps.events?.breaker?.(endpoint, state);
    },
  });

  /** One attempt as a CLIENT span of the active trace; the system receives its `traceparent`. */
  const attempt = (ep: Endpoint, req: HttpRequest, authHeaders: Record<string, string>) => {
    const url = resolveUrl(ep.url, req.path);
    const method = req.method ?? 'GET';
    const attributes = {
      'http.request.method': method,
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      // The query stays out: filters and SOQL can carry record data.
      'url.full': `${url.origin}${url.pathname}`,
    };
    return withSpan(method, { kind: 'client', attributes }, async (span) => {
      try {
        const outcome = await attemptOnce(ep, req, { ...authHeaders, ...traceHeaders() });
        span.setAttribute('http.response.status_code', outcome.status);
        if (outcome.status >= 400) markActiveSpanFailed(new HubError(String(outcome.status), 'rejected'));
        return outcome;
      } catch (err) {
        const status = err instanceof HubError ? err.where.status : undefined;
        if (typeof status === 'number') span.setAttribute('http.response.status_code', status);
        throw err;
      }
    });
  };

  /** One attempt against one endpoint; transient failures throw retriable HubErrors so the breaker counts them. */
  const attemptOnce = async (ep: Endpoint, req: HttpRequest, authHeaders: Record<string, string>) => {
    const url = resolveUrl(ep.url, req.path);
    // Percent-encoding (%20), not form encoding (+): OData servers read '+' literally.
    const extra = Object.entries(req.query ?? {})
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
    if (extra.length > 0) url.search = [url.search.replace(/^\?/, ''), ...extra].filter(Boolean).join('&');
    const where = { endpoint: ep.url, path: url.pathname };
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...config.headers,
      ...authHeaders,
      ...req.headers,
    };
    if (req.idempotencyKey) headers[config.idempotencyHeader.toLowerCase()] = req.idempotencyKey;
    let body: string | undefined;
    if (req.body !== undefined) {
      body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
      headers['content-type'] ??= 'application/json';
    }
    const timeout = AbortSignal.timeout(config.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await fetchImpl(url, {
        method: req.method ?? 'GET',
        headers,
        ...(body !== undefined ? { body } : {}),
        signal,
      });
      text = await res.text();
    } catch (err) {
      if (req.signal?.aborted) throw err;
      const timedOut = timeout.aborted;
      throw new HubError(
        timedOut ? 'HTTP_TIMEOUT' : 'HTTP_NETWORK',
        timedOut ? `no answer within ${config.timeoutMs} ms` : `request failed: ${(err as Error).message}`,
        {
          retriable: true,
          cause: err,
          where,
        },
      );
    }
    let parsed: unknown = text;
    if (text && /json/i.test(res.headers.get('content-type') ?? '')) {
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new HubError('HTTP_MALFORMED_BODY', `answer ${res.status} is not valid JSON`, {
          retriable: true,
          cause: err,
          where,
        });
      }
    }
    if (res.status >= 500 || res.status === 429 || res.status === 408) {
      const e = new HubError(
        res.status === 429 ? 'HTTP_RATE_LIMITED' : 'HTTP_UNAVAILABLE',
        `${ep.url} answered ${res.status}`,
        {
          retriable: true,
          where: { ...where, status: res.status },
        },
      );
      Object.assign(e, { retryAfterMs: parseRetryAfter(res.headers.get('retry-after')), body: parsed });
      throw e;
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };

  /** Per endpoint, when its last Retry-After ends: every request to it waits until then, not only the one told. */
  const notBefore = new Map<Endpoint, number>();

  const request = async <T>(req: HttpRequest): Promise<HttpResponse<T>> => {
    const method = req.method ?? 'GET';
    const retriable = safeMethods.has(method) || req.idempotencyKey !== undefined;
    let refreshedAuth = false;
    for (let attemptNo = 1; ; attemptNo++) {
      const ep = pool.pick();
      const wait = (notBefore.get(ep) ?? 0) - Date.now();
      if (wait > 0) await sleep(wait, req.signal);
      let outcome: { status: number; headers: Headers; body: unknown };
      try {
        ep.inFlight += 1;
        try {
          // The token request runs inside the breaker: a failing token endpoint is the system failing.
          outcome = (await ep.breaker.fire(async () =>
            attempt(ep, req, await auth.headers(req.signal)),
          )) as typeof outcome;
        } finally {
          ep.inFlight -= 1;
        }
      } catch (err) {
        const e =
          err instanceof HubError
            ? err
            : (err as { code?: string }).code === 'EOPENBREAKER'
              ? new HubError('CIRCUIT_OPEN', `breaker of ${ep.url} is open`, {
                  retriable: true,
                  where: { endpoint: ep.url },
                })
              : err;
        const retryAfter = (e as { retryAfterMs?: number }).retryAfterMs;
        // Kept for the endpoint even when this request gives up: the system asked everyone to wait.
        if (retryAfter !== undefined && retryAfter <= config.retry.maxRetryAfterMs)
          notBefore.set(ep, Math.max(notBefore.get(ep) ?? 0, Date.now() + retryAfter));
        if (!(e instanceof HubError) || !e.retriable || !retriable || attemptNo > config.retry.retries)
          throw e;
        if (retryAfter !== undefined && retryAfter > config.retry.maxRetryAfterMs) throw e;
        const delayMs = Math.max(retryAfter ?? 0, backoffWithJitter(config.retry, attemptNo, deps.random));
        deps.events?.retry?.({ attempt: attemptNo, delayMs, error: e, endpoint: ep.url });
        deps.logger?.debug(
          { attempt: attemptNo, delayMs, code: e.code, endpoint: ep.url },
          'retrying request',
        );
        await sleep(delayMs, req.signal);
        continue;
      }
      if (outcome.status === 401 && !refreshedAuth && auth.invalidate()) {
        // An expired or revoked token: fetch a new one once, then give up.
        refreshedAuth = true;
        attemptNo -= 1;
        continue;
      }
      if (outcome.status >= 400) {
        throw Object.assign(
          new HubError(
            outcome.status === 401 || outcome.status === 403 ? 'HTTP_UNAUTHORIZED' : 'HTTP_REJECTED',
            `${method} ${req.path} answered ${outcome.status}: ${summarize(outcome.body)}`,
            {
              retriable: false,
              where: { endpoint: ep.url, status: outcome.status },
            },
          ),
          { status: outcome.status, body: outcome.body },
        );
      }
      return { ...outcome, body: outcome.body as T, endpoint: ep.url, attempts: attemptNo };
    }
  };

  return {
    request,
    pool,
    auth,
    start: () => pool.start(),
    close: () => pool.close(),
  };
}

/** The system's own words, shortened for an error message. */
function summarize(body: unknown): string {
  const s = typeof body === 'string' ? body : JSON.stringify(body);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

/** Status and body a rejected request carried (undefined for other errors). */
export function httpFailure(err: unknown): { status: number; body: unknown } | undefined {
  const e = err as { status?: unknown; body?: unknown };
  return typeof e?.status === 'number' ? { status: e.status, body: e.body } : undefined;
}
