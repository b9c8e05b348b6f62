import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import { silentLogger } from '../../core/logger.ts';
import type { bridgeConfigSchema } from '../../mcp-bridge/config.ts';
import type { BridgeResources } from '../../mcp-bridge/resources.ts';
import { type BridgeHttpServer, createBridgeHttpServer } from '../../mcp-bridge/server.ts';
import type { BridgeTool } from '../../mcp-bridge/tools.ts';
import type { BridgeAction, Directory } from '../../security/index.ts';
import { createLdapDirectory, generateSigningKeyPem } from '../../security/index.ts';
import { useTestLdap } from '../support/ldap.ts';
import { useTestRedis } from '../support/redis.ts';
import { testPolicy, testTools } from './fixture-tools.ts';

export { testPolicy, testTools };

export interface BridgeFixture {
  bridge: BridgeHttpServer;
  url: string;
  resourceUrl: string;
  redis: Redis;
  actions: BridgeAction[];
  signingKey: string;
  login(username: string, password: string): Promise<Response>;
  loginOk(username: string, password: string): Promise<LoginReply>;
  connect(token: string, mcpUrl?: string): Promise<Client>;
  /** Starts another instance sharing Redis, key and public URL (as behind a load balancer); returns its MCP URL. */
  startPeer(tools?: BridgeTool[]): Promise<string>;
  close(): Promise<void>;
}

export interface LoginReply {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  roles: string[];
  expiresIn: number;
  user: string;
}

/** Starts real Redis and slapd (once per file) and a bridge on a free port with the test tools. */
export async function startBridgeFixture(
  config: Partial<z.input<typeof bridgeConfigSchema>> = {},
  options: {
    directory?: Directory;
    clock?: () => number;
    tools?: BridgeTool[];
    resources?: BridgeResources;
  } = {},
): Promise<BridgeFixture> {
  const testRedis = await useTestRedis();
  const testLdap = await useTestLdap();
  const redis = new Redis(testRedis.url, { maxRetriesPerRequest: 2 });
  const actions: BridgeAction[] = [];
  const signingKey = generateSigningKeyPem();
  const directory = options.directory ?? createLdapDirectory({ url: testLdap.url });
  const redisKeyPrefix = `test-${randomUUID()}:`;
  const deps = {
    redis,
    directory,
    policy: testPolicy,
    signingKey,
    tools: options.tools ?? testTools,
    emitAction: (action: BridgeAction) => void actions.push(action),
    logger: silentLogger(),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.resources ? { resources: options.resources } : {}),
  };
  const bridge = createBridgeHttpServer({ port: 0, redisKeyPrefix, ...config }, deps);
  const { url, resourceUrl } = await bridge.start();
  const clients: Client[] = [];
  const peers: BridgeHttpServer[] = [];
  const login = (username: string, password: string) =>
    fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
  return {
    bridge,
    url,
    resourceUrl,
    redis,
    actions,
    signingKey,
    login,
    async loginOk(username, password) {
      const res = await login(username, password);
      if (res.status !== 200)
        throw new Error(`login of ${username} failed: ${res.status} ${await res.text()}`);
      return (await res.json()) as LoginReply;
    },
    async connect(token, mcpUrl = resourceUrl) {
      const client = new Client({ name: 'bridge-test', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    async startPeer(tools) {
      const peer = createBridgeHttpServer(
        { port: 0, redisKeyPrefix, ...config, publicUrl: url },
        tools ? { ...deps, tools } : deps,
      );
      peers.push(peer);
      await peer.start();
      const address = peer.address();
      return `http://127.0.0.1:${address.port}/mcp`;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await Promise.all(peers.map((p) => p.close()));
      await bridge.close();
      redis.disconnect();
      await testRedis.release();
      await testLdap.release();
    },
  };
}

/** Posts a JSON-RPC body to the MCP endpoint with a token, as a raw HTTP client would. */
export function postMcp(resourceUrl: string, token: string | undefined, body: string): Promise<Response> {
  return fetch(resourceUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body,
  });
}

export const listToolsBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
