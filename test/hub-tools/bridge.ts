import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import { silentLogger } from '../../core/logger.ts';
import { type BridgeTool, createMcpBridge } from '../../mcp-bridge/index.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import type { HubContext } from '../../platform/index.ts';
import { type BridgeAction, createLocalUsersDirectory, upsertLocalUser } from '../../security/index.ts';
import { useTestRedis } from '../support/redis.ts';

/** The users every bridge of these tests knows, one per group of the default policy. */
export const users = {
  admin: { password: 'admin-pw-1', groups: ['admins'] },
  operator: { password: 'operator-pw-1', groups: ['operators'] },
  analyst: { password: 'analyst-pw-1', groups: ['analysts'] },
} as const;

export interface TestBridge {
  /** An SDK client over Streamable HTTP, logged in as one of `users`. */
  connect(user: keyof typeof users): Promise<Client>;
  actions: BridgeAction[];
  close(): Promise<void>;
}

/**
 * The whole bridge component (createMcpBridge) with the default policy, a local users file,
 * real Redis, and the given declarations and extra tools: the way `tributary up` runs it.
 */
export async function startTestBridge(options: {
  hub: HubContext;
  declarations?: readonly ComponentDeclaration<unknown>[];
  extraTools?: readonly BridgeTool[];
  topicPrefix?: string;
}): Promise<TestBridge> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-hub-tools-'));
  const usersFile = join(dir, 'users.json');
  for (const [name, u] of Object.entries(users))
    await upsertLocalUser(usersFile, name, u.password, [...u.groups]);
  const testRedis = await useTestRedis();
  const redis = new Redis(testRedis.url, { maxRetriesPerRequest: 2 });
  const actions: BridgeAction[] = [];
  const bridge = createMcpBridge(
    {
      port: 0,
      redisKeyPrefix: `test-${randomUUID()}:`,
      signingKeyFile: join(dir, 'signing-key.pem'),
      usersFile,
      toolTimeoutMs: 30_000,
      ...(options.topicPrefix ? { topicPrefix: options.topicPrefix } : {}),
    },
    {
      hub: options.hub,
      declarations: options.declarations ?? [],
      logger: silentLogger(),
      redis,
      directory: createLocalUsersDirectory(usersFile),
      emitAction: (action) => void actions.push(action),
      ...(options.extraTools ? { extraTools: options.extraTools } : {}),
    },
  );
  const { url, resourceUrl } = await bridge.start();
  const clients: Client[] = [];
  return {
    actions,
    async connect(user) {
      const res = await fetch(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: user, password: users[user].password }),
      });
      if (res.status !== 200) throw new Error(`login of ${user} failed: ${res.status} ${await res.text()}`);
      const { accessToken } = (await res.json()) as { accessToken: string };
      const client = new Client({ name: 'hub-tools-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(resourceUrl), {
          requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
        }),
      );
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await bridge.close();
      redis.disconnect();
      await testRedis.release();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
