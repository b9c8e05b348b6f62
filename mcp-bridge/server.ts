import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { HubError, toHubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { BridgeIdentity, Directory, EmitAction, Policy } from '../security/index.ts';
import {
  type AuthAtOrigin,
  authChallengeHeaders,
  createAuthStack,
  protectedResourceMetadata,
  readBody,
  resourceMetadataPath,
  type SessionStore,
  sendHubError,
  sendJson,
  type TokenService,
} from '../security/index.ts';
import { createCallRegistry } from './cancellations.ts';
import { type BridgeConfig, bridgeConfigSchema } from './config.ts';
import { createBridgeMcpServer } from './mcp-server.ts';
import type { BridgeResources } from './resources.ts';
import { createRedisTaskStore } from './task-store.ts';
import type { BridgeTool } from './tools.ts';

/**
 * The bridge's HTTP server (node:http): the MCP endpoint over Streamable HTTP behind bearer-JWT
 * authentication, the /auth/* token endpoints, and the RFC 9728 metadata document. Stateless:
 * each MCP request gets its own McpServer built for the verified caller, and all shared state
 * (sessions, rate limits) lives in Redis, so any number of instances can sit behind one balancer.
 */

export interface BridgeHttpDeps {
  redis: Redis;
  directory: Directory;
  policy: Policy;
  /** PEM private key shared by every instance (see auth/keys.ts). */
  signingKey: string;
  tools: readonly BridgeTool[];
  emitAction: EmitAction;
  logger: Logger;
  resources?: BridgeResources;
  clock?: () => number;
}

export interface BridgeHttpServer {
  /** Listens; resolves with the base URL and the MCP resource URL (the token audience). */
  start(): Promise<{ url: string; resourceUrl: string }>;
  close(): Promise<void>;
  /** Where this instance actually listens (differs from the public URL behind a balancer). */
  address(): AddressInfo;
  /** Available after start(): issue tokens (dev CLI) or inspect sessions (tests). */
  readonly tokens: TokenService;
  readonly sessions: SessionStore;
}

type Running = AuthAtOrigin;

/** Builds the bridge's HTTP server from config and collaborators. */
export function createBridgeHttpServer(
  input: z.input<typeof bridgeConfigSchema>,
  deps: BridgeHttpDeps,
): BridgeHttpServer {
  const config: BridgeConfig = bridgeConfigSchema.parse(input);
  const auth = createAuthStack({ ...config, loginMaxBodyBytes: config.maxBodyBytes }, deps);
  const { sessions } = auth;
  const callLimiter = auth.limiter(config.toolCallsPerWindow, 'calls');
  const calls = createCallRegistry({
    redis: deps.redis,
    channel: `${config.redisKeyPrefix}cancel`,
    logger: deps.logger,
  });
  let running: Running | undefined;
  let server: Server | undefined;

  const prepare = (origin: string): Running => auth.at(origin, `${origin}${config.mcpPath}`);

  async function serveMcp(identity: BridgeIdentity, req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'POST') {
      // Stateless server: no standalone SSE stream (GET) and no session to delete (DELETE).
      throw new HubError(
        'HTTP_METHOD_NOT_ALLOWED',
        `${req.method} is not supported on ${config.mcpPath}; use POST`,
      );
    }
    const body = await readBody(req, config.maxBodyBytes);
    let message: unknown;
    try {
      message = JSON.parse(body.toString('utf8'));
    } catch {
      sendJson(res, 400, {
        jsonrpc: '2.0',
        error: { code: -32700, message: 'Parse error: body is not JSON' },
        id: null,
      });
      return;
    }
    const mcp = createBridgeMcpServer(identity, {
      tools: deps.tools,
      policy: deps.policy,
      emitAction: deps.emitAction,
      logger: deps.logger,
      callLimiter,
      calls,
      ...(deps.resources ? { resources: deps.resources } : {}),
      ...(config.tasks
        ? {
            taskStore: createRedisTaskStore({
              redis: deps.redis,
              owner: identity.sub,
              keyPrefix: config.redisKeyPrefix,
              // Ownership was checked by the store; task ids are unguessable, so the id is the key.
              onCancel: (taskId) => void calls.cancel('task', taskId),
            }),
          }
        : {}),
    });
    await forwardCancellations(identity, message);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    // Only the verified identity travels on; the token itself stays here.
    const auth = { token: '', clientId: identity.sub, scopes: identity.roles, extra: { ...identity } };
    await transport.handleRequest(Object.assign(req, { auth }), res, message);
  }

  /**
   * The MCP transport spec requires validating Origin (DNS rebinding): a browser request from a
   * page of another origin is refused; non-browser clients send no Origin and pass.
   */
  function checkOrigin(state: Running, req: IncomingMessage) {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    const allowed = new Set([new URL(state.resourceUrl).origin, ...config.allowedOrigins]);
    if (!allowed.has(origin)) {
      throw new HubError('AUTH_FORBIDDEN', `requests from origin ${origin} are not allowed`, {
        hint: 'add the origin to the bridge config allowedOrigins',
      });
    }
  }

  /** Hands `notifications/cancelled` to the instance running the call (see cancellations.ts). */
  async function forwardCancellations(identity: BridgeIdentity, message: unknown) {
    for (const item of Array.isArray(message) ? message : [message]) {
      const note = item as { method?: unknown; params?: { requestId?: unknown } };
      const requestId = note?.params?.requestId;
      if (
        note?.method === 'notifications/cancelled' &&
        (typeof requestId === 'string' || typeof requestId === 'number')
      ) {
        await calls.cancel(identity.sessionId, requestId);
      }
    }
  }

  async function handle(state: Running, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://bridge').pathname;
    try {
      if (
        req.method === 'GET' &&
        (path === resourceMetadataPath || path === `${resourceMetadataPath}${config.mcpPath}`)
      ) {
        sendJson(res, 200, protectedResourceMetadata(state.resourceUrl, config.algorithm), {
          'cache-control': 'public, max-age=300',
        });
        return;
      }
      if (path.startsWith('/auth/')) {
        if (req.method !== 'POST')
          throw new HubError('HTTP_METHOD_NOT_ALLOWED', `${req.method} ${path}: use POST`);
        if (path === '/auth/login') return await state.routes.login(req, res);
        if (path === '/auth/refresh') return await state.routes.refresh(req, res);
        if (path === '/auth/logout') return await state.routes.logout(req, res);
      }
      if (path === config.mcpPath) {
        checkOrigin(state, req);
        const identity = await state.authenticator.authenticate(req);
        return await serveMcp(identity, req, res);
      }
      throw new HubError('HTTP_NOT_FOUND', `no route ${req.method} ${path}`);
    } catch (err) {
      const hubError = toHubError(err);
      const headers = authChallengeHeaders(hubError, state.resourceUrl);
      if (hubError.code === 'RATE_LIMITED') {
        headers['retry-after'] = String(Math.ceil(Number(hubError.where.retryAfterMs ?? 1000) / 1000));
      }
      if (hubError.code === 'HTTP_METHOD_NOT_ALLOWED') headers.allow = 'POST';
      if (
        !hubError.code.startsWith('AUTH_') &&
        !hubError.code.startsWith('HTTP_') &&
        hubError.code !== 'RATE_LIMITED'
      ) {
        deps.logger.error({ err: hubError.toJSON(), path }, 'bridge request failed');
      }
      sendHubError(res, hubError, headers);
    }
  }

  return {
    get tokens() {
      if (!running) throw new HubError('BRIDGE_NOT_STARTED', 'start() the bridge first');
      return running.tokens;
    },
    sessions,
    address() {
      if (!server) throw new HubError('BRIDGE_NOT_STARTED', 'start() the bridge first');
      return server.address() as AddressInfo;
    },
    async start() {
      if (server && running)
        return { url: new URL(running.resourceUrl).origin, resourceUrl: running.resourceUrl };
      const http = createServer((req, res) => {
        if (!running) return sendJson(res, 503, { error: { code: 'BRIDGE_STARTING', message: 'starting' } });
        void handle(running, req, res);
      });
      server = http;
      await calls.start();
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(config.port, config.host, () => resolve());
      });
      const { port } = http.address() as AddressInfo;
      const origin = config.publicUrl ? new URL(config.publicUrl).origin : `http://${config.host}:${port}`;
      running = prepare(origin);
      deps.logger.info({ url: origin, resourceUrl: running.resourceUrl }, 'MCP bridge listening');
      return { url: origin, resourceUrl: running.resourceUrl };
    },
    async close() {
      const current = server;
      server = undefined;
      running = undefined;
      await calls.close();
      if (!current) return;
      current.closeAllConnections();
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
  };
}
