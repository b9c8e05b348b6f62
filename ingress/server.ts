import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { HubError, toHubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { HubContext } from '../platform/index.ts';
import {
  type AuthAtOrigin,
  authChallengeHeaders,
  createAuthStack,
  type Directory,
  type EmitAction,
  httpStatusFor,
  type Policy,
  protectedResourceMetadata,
  resourceMetadataPath,
  type SessionStore,
  sendJson,
  type TokenService,
} from '../security/index.ts';
import { type IngressConfig, ingressConfigSchema } from './config.ts';
import { createIdempotencyRecords } from './idempotency.ts';
import type { IngressType } from './ingress-types.ts';
import { ingressOpenApi } from './openapi.ts';
import { type ApiRoutes, createApiRoutes } from './routes.ts';
import { tracedRequest } from './tracing.ts';

/**
 * The ingress's HTTP server (node:http): `/v1/*` behind bearer-JWT authentication (the shared
 * security layer, as on the MCP bridge), `/auth/*` to log in, the RFC 9728 metadata document
 * and `/openapi.json`. Stateless: sessions, rate limits and idempotency keys live in Redis.
 */

export interface IngressHttpDeps {
  hub: HubContext;
  redis: Redis;
  directory: Directory;
  policy: Policy;
  /** PEM private key shared by every instance (security/keys.ts). */
  signingKey: string;
  types: readonly IngressType[];
  emitAction: EmitAction;
  logger: Logger;
  clock?: () => number;
}

export interface IngressHttpServer {
  /** Listens; resolves with the base URL and the API resource URL (the token audience). */
  start(): Promise<{ url: string; resourceUrl: string }>;
  close(): Promise<void>;
  address(): AddressInfo;
  /** Available after start(): issue tokens (dev CLI, tests). */
  readonly tokens: TokenService;
  readonly sessions: SessionStore;
}

/** Status of the ingress's own codes; the rest as on the bridge (security/http.ts). */
const ingressStatus: Record<string, number> = {
  INGRESS_INVALID_BODY: 400,
  INGRESS_BAD_IDEMPOTENCY_KEY: 400,
  INGRESS_TYPE_UNKNOWN: 404,
  INGRESS_IDEMPOTENCY_IN_PROGRESS: 409,
  INGRESS_IDEMPOTENCY_MISMATCH: 422,
};

interface Running extends AuthAtOrigin {
  origin: string;
  openapi: unknown;
}

const eventsPath = /^\/v1\/events\/([^/]+)$/;
const topicEventsPath = /^\/v1\/topics\/([^/]+)\/events$/;

/** Builds the ingress HTTP server from config and collaborators. */
export function createIngressHttpServer(
  input: z.input<typeof ingressConfigSchema>,
  deps: IngressHttpDeps,
): IngressHttpServer {
  const config: IngressConfig = ingressConfigSchema.parse(input);
  const auth = createAuthStack(
    {
      ...config,
      loginMaxBodyBytes: Math.min(config.maxBodyBytes, 64 * 1024),
      auditResource: 'ingress',
    },
    deps,
  );
  const { sessions } = auth;
  const api: ApiRoutes = createApiRoutes({
    hub: deps.hub,
    policy: deps.policy,
    callLimiter: auth.limiter(config.callsPerWindow, 'calls'),
    idempotency: createIdempotencyRecords({
      redis: deps.redis,
      ttlSeconds: config.idempotencyTtlSeconds,
      keyPrefix: config.redisKeyPrefix,
    }),
    types: deps.types,
    emitAction: deps.emitAction,
    maxBodyBytes: config.maxBodyBytes,
    maxPageSize: config.maxPageSize,
    source: 'ingress',
  });
  let running: Running | undefined;
  let server: Server | undefined;

  function prepare(origin: string): Running {
    const openapi = ingressOpenApi(deps.types, deps.hub.catalog, origin);
    return { ...auth.at(origin, `${origin}/v1`), origin, openapi };
  }

  /** Authenticates; a failure is audited (actor unknown: the token proved nothing) and rethrown. */
  async function identify(state: Running, req: IncomingMessage, path: string) {
    try {
      return await state.authenticator.authenticate(req);
    } catch (err) {
      const hubError = toHubError(err);
      await Promise.resolve(
        deps.emitAction({
          action: 'ingress.auth.denied',
          actor: 'anonymous',
          resource: path,
          outcome: 'denied',
          details: { code: hubError.code, method: req.method ?? '' },
        }),
      ).catch(() => undefined);
      throw hubError;
    }
  }

  function sendError(state: Running, res: ServerResponse, err: HubError, path: string) {
    const status = ingressStatus[err.code] ?? httpStatusFor(err);
    const headers = authChallengeHeaders(err, state.resourceUrl);
    if (err.code === 'RATE_LIMITED' || err.retriable) {
      headers['retry-after'] = String(Math.max(1, Math.ceil(Number(err.where.retryAfterMs ?? 1000) / 1000)));
    }
    if (status === 413) headers.connection = 'close';
    if (status >= 500) deps.logger.error({ err: err.toJSON(), path }, 'ingress request failed');
    const field = err.where.field;
    const message = status >= 500 ? 'internal error; see the ingress log' : err.message;
    sendJson(
      res,
      status,
      {
        error: {
          code: err.code,
          message,
          ...(typeof field === 'string' && status < 500 ? { field } : {}),
          ...(err.hint && status < 500 ? { hint: err.hint } : {}),
        },
      },
      headers,
    );
  }

  async function handle(state: Running, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', state.origin);
    const path = url.pathname;
    try {
      if (req.method === 'GET' && path === '/openapi.json') return sendJson(res, 200, state.openapi);
      if (req.method === 'GET' && (path === resourceMetadataPath || path === `${resourceMetadataPath}/v1`)) {
        return sendJson(
          res,
          200,
          protectedResourceMetadata(state.resourceUrl, config.algorithm, 'Tributary HTTP ingress'),
          { 'cache-control': 'public, max-age=300' },
        );
      }
      if (req.method === 'POST' && path === '/auth/login') return await state.routes.login(req, res);
      if (req.method === 'POST' && path === '/auth/refresh') return await state.routes.refresh(req, res);
      if (req.method === 'POST' && path === '/auth/logout') return await state.routes.logout(req, res);
      const publish = eventsPath.exec(path);
      const read = topicEventsPath.exec(path);
      if ((publish && req.method !== 'POST') || (read && req.method !== 'GET')) {
        throw new HubError('HTTP_METHOD_NOT_ALLOWED', `${req.method} is not supported on ${path}`);
      }
      if (publish?.[1]) {
        const identity = await identify(state, req, path);
        return await api.publish(identity, decodeURIComponent(publish[1]), req, res);
      }
      if (read?.[1]) {
        const identity = await identify(state, req, path);
        return await api.read(identity, decodeURIComponent(read[1]), url, res);
      }
      throw new HubError('HTTP_NOT_FOUND', `no route ${req.method} ${path}`);
    } catch (err) {
      sendError(state, res, toHubError(err), path);
    }
  }

  return {
    get tokens() {
      if (!running) throw new HubError('INGRESS_NOT_STARTED', 'start() the ingress first');
      return running.tokens;
    },
    sessions,
    address() {
      if (!server) throw new HubError('INGRESS_NOT_STARTED', 'start() the ingress first');
      return server.address() as AddressInfo;
    },
    async start() {
      if (server && running) return { url: running.origin, resourceUrl: running.resourceUrl };
      const http = createServer((req, res) => {
        if (!running) return sendJson(res, 503, { error: { code: 'INGRESS_STARTING', message: 'starting' } });
        const state = running;
        void tracedRequest(req, res, () => handle(state, req, res));
      });
      server = http;
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(config.port, config.host, () => resolve());
      });
      const { port } = http.address() as AddressInfo;
      const origin = config.publicUrl ? new URL(config.publicUrl).origin : `http://${config.host}:${port}`;
      running = prepare(origin);
      deps.logger.info({ url: origin, types: deps.types.length }, 'HTTP ingress listening');
      return { url: origin, resourceUrl: running.resourceUrl };
    },
    async close() {
      const current = server;
      server = undefined;
      running = undefined;
      if (!current) return;
      current.closeAllConnections();
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
  };
}
