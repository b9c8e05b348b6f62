import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { createMcpBridge, type McpBridge } from '../../mcp-bridge/component.ts';
import type { BridgeAction } from '../../mcp-bridge/index.ts';
import { imageProcessorDeclaration } from '../../processors/image/declaration.ts';
import { createLdapDirectory } from '../../security/index.ts';
import { startProcessorHarness } from '../processors/kafka-harness.ts';
import { type TestLdap, useTestLdap } from '../support/ldap.ts';
import { uniqueName } from '../support/names.ts';
import { type TestRedis, useTestRedis } from '../support/redis.ts';

/**
 * The whole path with a real processor: an agent (the SDK client) calls `image.analyze`, the
 * bridge publishes the request, the image processor works on it and answers, and the bridge
 * returns the processor's result as structuredContent that matches the derived outputSchema.
 */
describe('MCP bridge with a real processor (image.analyze)', () => {
  let harness: Awaited<ReturnType<typeof startProcessorHarness>>;
  let bridge: McpBridge;
  let redis: TestRedis;
  let ldap: TestLdap;
  let client: Redis;
  let dir: string;
  let url = '';
  let resourceUrl = '';
  const actions: BridgeAction[] = [];

  beforeAll(async () => {
    harness = await startProcessorHarness([imageProcessorDeclaration]);
    await harness.start(imageProcessorDeclaration);
    redis = await useTestRedis();
    ldap = await useTestLdap();
    client = new Redis(redis.url);
    dir = await mkdtemp(join(tmpdir(), 'tributary-bridge-processor-'));
    bridge = createMcpBridge(
      {
        port: 0,
        topicPrefix: harness.prefix,
        redisKeyPrefix: `${uniqueName('bridge')}:`,
        signingKeyFile: join(dir, 'key.pem'),
        usersFile: join(dir, 'users.json'),
      },
      {
        hub: harness.hub,
        declarations: [imageProcessorDeclaration],
        logger: silentLogger(),
        redis: client,
        directory: createLdapDirectory({ url: ldap.url }),
        emitAction: (action) => void actions.push(action),
      },
    );
    ({ url, resourceUrl } = await bridge.start());
  });

  afterAll(async () => {
    await bridge?.close();
    client?.disconnect();
    await redis?.release();
    await ldap?.release();
    await harness?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an analyst’s tool call comes back with the processor’s result', async () => {
    const login = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bob', password: 'bob-secret-2' }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const agent = new Client({ name: 'agent', version: '1.0.0' });
    await agent.connect(
      new StreamableHTTPClientTransport(new URL(resourceUrl), {
        requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
      }),
    );
    try {
      const tools = (await agent.listTools()).tools;
      const analyze = tools.find((t) => t.name === 'image.analyze');
      expect(analyze?.inputSchema.required).toEqual(['image', 'analyses']);
      expect(analyze?.outputSchema?.properties).toHaveProperty('facts');

      const png = await sharp({ create: { width: 12, height: 7, channels: 3, background: '#3366ff' } })
        .png()
        .toBuffer();
      const image = await harness.blobs.put(png, 'image/png');
      const result = await agent.callTool({
        name: 'image.analyze',
        arguments: { image: { ...image }, analyses: ['objects'] },
      });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({
        status: 'succeeded',
        provider: 'offline',
        facts: { width: 12, height: 7, format: 'png' },
      });
      expect(
        actions.find((a) => a.action === 'mcp.tool.call' && a.resource === 'image.analyze'),
      ).toMatchObject({
        actor: 'bob',
        outcome: 'succeeded',
      });
    } finally {
      await agent.close();
    }
  });
});
