import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HubError } from '../core/errors.ts';

/**
 * The hub's operations endpoint: `/healthz` (the process answers), `/readyz` (every component
 * started and Kafka reachable; 503 with the reasons otherwise), `/metrics` (Prometheus) and
 * whatever routes the caller adds (the console).
 */

export interface Readiness {
  ready: boolean;
  /** Why not, for people: one line per unmet condition. */
  reasons: string[];
}

export interface OpsServer {
  /** Listens; resolves with the base URL (e.g. http://127.0.0.1:9464). */
  start(): Promise<string>;
  close(): Promise<void>;
  readonly url: string | undefined;
}

export interface OpsServerOptions {
  host: string;
  port: number;
  readiness: () => Readiness;
  metrics: { render(): Promise<string>; contentType: string };
  /** Extra fields of /healthz (instance id, version). */
  identity: Record<string, unknown>;
  /** More GET routes by exact path (the console). */
  routes?: Record<string, (request: RouteRequest) => Promise<Answer>>;
  /**
   * POST routes by exact path (the console's actions). The body must be JSON (at most 64 KiB)
   * and a request from a page of another origin is refused, so no other site can drive them.
   */
  postRoutes?: Record<string, (request: RouteRequest) => Promise<Answer>>;
}

export interface RouteRequest {
  query: URLSearchParams;
  /** The parsed JSON body of a POST; undefined for GET. */
  body: unknown;
}

export interface Answer {
  status: number;
  type: string;
  body: string;
}

/** Builds the health, readiness and metrics server; `start()` then `close()` (safe twice). */
export function createOpsServer(options: OpsServerOptions): OpsServer {
  let server: Server | undefined;
  let url: string | undefined;
  let closing: Promise<void> | undefined;

  const json = (status: number, body: unknown) => ({
    status,
    type: 'application/json',
    body: `${JSON.stringify(body)}\n`,
  });

  async function answer(path: string, query: URLSearchParams): Promise<Answer> {
    const route = options.routes?.[path];
    if (route) return await route({ query, body: undefined });
    if (path === '/healthz') return json(200, { status: 'ok', ...options.identity });
    if (path === '/readyz') {
      const r = options.readiness();
      return json(r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', reasons: r.reasons });
    }
    if (path === '/metrics')
      return { status: 200, type: options.metrics.contentType, body: await options.metrics.render() };
    return json(404, {
      error: 'not found',
      paths: ['/healthz', '/readyz', '/metrics', ...Object.keys(options.routes ?? {})],
    });
  }

  return {
    get url() {
      return url;
    },
    async start() {
      if (url) return url;
      const s = createServer((req, res) => {
        const parsed = new URL(req.url ?? '/', 'http://localhost');
        const path = parsed.pathname;
        const send = (a: Answer) => res.writeHead(a.status, { 'content-type': a.type }).end(a.body);
        const post = options.postRoutes?.[path];
        if (req.method === 'POST' && post) {
          readJsonPost(req, url).then(
            (read) =>
              read.ok
                ? post({ query: parsed.searchParams, body: read.body }).then(send)
                : send(json(read.status, { error: read.error })),
            (err: unknown) => send(json(500, { error: String(err) })),
          );
          return;
        }
        if (post) {
          const error = `${path} takes POST with a JSON body, not ${req.method}`;
          res
            .writeHead(405, { allow: 'POST', 'content-type': 'application/json' })
            .end(JSON.stringify({ error }));
          return;
        }
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { allow: 'GET, HEAD' }).end();
          return;
        }
        answer(path, parsed.searchParams).then(
          (a) =>
            res
              .writeHead(a.status, { 'content-type': a.type })
              .end(req.method === 'HEAD' ? undefined : a.body),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
        );
      });
      server = s;
      await new Promise<void>((done, fail) => {
        s.once('error', (err: NodeJS.ErrnoException) =>
          fail(
            new HubError(
              'HUB_HTTP_PORT',
              `cannot serve health and metrics on ${options.host}:${options.port}: ${err.code ?? err.message}`,
              {
                cause: err,
                hint: 'set TRIBUTARY_HTTP_PORT to a free port (0 picks one)',
              },
            ),
          ),
        );
        s.listen(options.port, options.host, () => done());
      });
      const address = s.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      url = `http://${host}:${address.port}`;
      return url;
    },
    close() {
      closing ??= new Promise<void>((done) => {
        if (!server) return done();
        server.close(() => done());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

const MAX_POST_BYTES = 64 * 1024;

/**
 * The JSON body of a console action, or the status and error naming why it is not taken: from
 * another origin (a page elsewhere posting to this port), not JSON, too large or unparsable.
 */
async function readJsonPost(
  req: IncomingMessage,
  ownOrigin: string | undefined,
): Promise<{ ok: true; body: unknown } | { ok: false; status: number; error: string }> {
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  if ((origin !== undefined && origin !== ownOrigin) || site === 'cross-site')
    return { ok: false, error: `cross-origin request from ${origin ?? site} refused`, status: 403 };
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
    return { ok: false, error: 'the body must be JSON (content-type: application/json)', status: 415 };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_POST_BYTES)
      return { ok: false, error: `the body is larger than ${MAX_POST_BYTES} bytes`, status: 413 };
    chunks.push(chunk as Buffer);
  }
  try {
    return { ok: true, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') };
  } catch (err) {
    return { ok: false, error: `the body is not JSON: ${(err as Error).message}`, status: 400 };
  }
}
