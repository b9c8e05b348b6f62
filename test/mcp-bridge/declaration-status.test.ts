import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { mcpBridgeDeclaration } from '../../mcp-bridge/declaration.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { createHubContext, type HubContext } from '../../platform/index.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { useTestRedis } from '../support/redis.ts';

/** The declared bridge component's status says where start() bound the server, not what the config asked. */
let hub: HubContext | undefined;
let dir: string | undefined;
afterAll(async () => {
  await hub?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the MCP bridge component status', () => {
  it('reports the URL of the port start() bound when the config asks for port 0, and null before and after', {
    timeout: 60_000,
  }, async () => {
    hub = await createHubContext({ env: testKafka().env, logger: silentLogger() });
    dir = await mkdtemp(join(tmpdir(), 'bridge-status-'));
    const redis = await useTestRedis();
    // No other components: the bridge offers its hub tools only and follows no result topic.
    const declaration = mcpBridgeDeclaration(() => []) as unknown as ComponentDeclaration<
      Record<string, unknown>
    >;
    const config = declaration.config.parse({
      port: 0,
      host: '127.0.0.1',
      redisUrl: redis.url,
      usersFile: join(dir, 'users.json'),
      signingKeyFile: join(dir, 'signing-key.pem'),
      topicPrefix: `${uniqueName('bridge-status')}.`,
    });
    const component = declaration.create(config, { hub, logger: silentLogger() });
    expect(component.status?.()).toMatchObject({ url: null, resourceUrl: null, listening: null });
    await component.start();
    try {
      const status = component.status?.() as { url: string; resourceUrl: string; listening: string };
      const port = Number(new URL(status.listening).port);
      expect(port).toBeGreaterThan(0);
      expect(status.url).toBe(`http://127.0.0.1:${port}`);
      expect(status.resourceUrl).toBe(`http://127.0.0.1:${port}/mcp`);
      // It is where the server answers: the protected-resource metadata names the same resource.
      const meta = await fetch(`${status.url}/.well-known/oauth-protected-resource/mcp`);
      expect(meta.status).toBe(200);
      expect(((await meta.json()) as { resource: string }).resource).toBe(status.resourceUrl);
    } finally {
      await component.close();
    }
    expect(component.status?.()).toMatchObject({ url: null, listening: null });
  });
});
