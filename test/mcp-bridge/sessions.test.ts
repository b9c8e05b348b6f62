import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { createRedisKit } from '../../kit/redis.ts';
import { createBridgeHttpServer } from '../../mcp-bridge/server.ts';
import { createLocalUsersDirectory, generateSigningKeyPem } from '../../security/index.ts';
import {
  type BridgeFixture,
  listToolsBody,
  postMcp,
  startBridgeFixture,
  testPolicy,
  testTools,
} from './fixture.ts';

const refresh = (fx: BridgeFixture, refreshToken: string) =>
  fetch(`${fx.url}/auth/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken }),
  });

const logout = (fx: BridgeFixture, token: string, all = false) =>
  fetch(`${fx.url}/auth/logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ all }),
  });

const status = async (url: string, token: string) => (await postMcp(url, token, listToolsBody)).status;

describe('MCP bridge sessions in real Redis', () => {
  let fx: BridgeFixture;
  let clockOffsetMs = 0;
  beforeAll(async () => {
    fx = await startBridgeFixture(
      { accessTokenTtlSeconds: 600, sessionMaxSeconds: 3600, toolCallsPerWindow: 3 },
      { clock: () => Date.now() + clockOffsetMs },
    );
  });
  afterAll(() => fx?.close());

  it('logout revokes the session at once, on this instance and on a second one', async () => {
    const peerUrl = await fx.startPeer();
    const bob = await fx.loginOk('bob', 'bob-secret-2');
    expect(await status(fx.resourceUrl, bob.accessToken)).toBe(200);
    expect(await status(peerUrl, bob.accessToken)).toBe(200);
    const res = await logout(fx, bob.accessToken);
    expect(await res.json()).toEqual({ revoked: 1 });
    expect(await status(fx.resourceUrl, bob.accessToken)).toBe(401);
    expect(await status(peerUrl, bob.accessToken)).toBe(401);
    expect(fx.actions.some((a) => a.action === 'auth.logout' && a.actor === 'bob')).toBe(true);
  });

  it('revoke-all ends every session of the user and no one else’s', async () => {
    const first = await fx.loginOk('alice', 'alice-secret-1');
    const second = await fx.loginOk('alice', 'alice-secret-1');
    const bob = await fx.loginOk('bob', 'bob-secret-2');
    expect((await fx.bridge.sessions.list('alice')).sort()).toEqual(
      [first.sessionId, second.sessionId].sort(),
    );
    const res = await logout(fx, first.accessToken, true);
    expect(await res.json()).toEqual({ revoked: 2 });
    expect(await status(fx.resourceUrl, first.accessToken)).toBe(401);
    expect(await status(fx.resourceUrl, second.accessToken)).toBe(401);
    expect(await status(fx.resourceUrl, bob.accessToken)).toBe(200);
    expect(await fx.bridge.sessions.list('alice')).toEqual([]);
  });

  it('refresh issues a new token on the same session and rotates the refresh token; reuse revokes', async () => {
    const login = await fx.loginOk('bob', 'bob-secret-2');
    const res = await refresh(fx, login.refreshToken);
    expect(res.status).toBe(200);
    const renewed = (await res.json()) as typeof login;
    expect(renewed.sessionId).toBe(login.sessionId);
    expect(renewed.accessToken).not.toBe(login.accessToken);
    expect(renewed.refreshToken).not.toBe(login.refreshToken);
    expect(await status(fx.resourceUrl, renewed.accessToken)).toBe(200);
    // The old refresh token again: treated as stolen, so the whole session ends.
    expect((await refresh(fx, login.refreshToken)).status).toBe(401);
    expect(await status(fx.resourceUrl, renewed.accessToken)).toBe(401);
    expect((await refresh(fx, renewed.refreshToken)).status).toBe(401);
    expect((await refresh(fx, 'not-a-refresh-token')).status).toBe(401);
  });

  it('an access token expires after its lifetime, and refresh gets a working one', async () => {
    const login = await fx.loginOk('bob', 'bob-secret-2');
    // Past the lifetime plus the allowed clock skew.
    clockOffsetMs = 700_000;
    try {
      const res = await postMcp(fx.resourceUrl, login.accessToken, listToolsBody);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('AUTH_TOKEN_EXPIRED');
      const renewed = (await (await refresh(fx, login.refreshToken)).json()) as typeof login;
      expect(await status(fx.resourceUrl, renewed.accessToken)).toBe(200);
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('a session ends after its maximum lifetime, however active', async () => {
    const login = await fx.loginOk('carol', 'carol-secret-3');
    expect(await status(fx.resourceUrl, login.accessToken)).toBe(200);
    clockOffsetMs = 3_601_000;
    try {
      expect((await refresh(fx, login.refreshToken)).status).toBe(401);
    } finally {
      clockOffsetMs = 0;
    }
    expect(await status(fx.resourceUrl, login.accessToken)).toBe(401);
  });

  it('rate-limits tool calls per user', async () => {
    const bob = await fx.connect((await fx.loginOk('bob', 'bob-secret-2')).accessToken);
    for (let i = 0; i < 3; i++)
      await bob.callTool({ name: 'crm.contact.lookup', arguments: { id: `c-${i}` } });
    await expect(bob.callTool({ name: 'crm.contact.lookup', arguments: { id: 'c-4' } })).rejects.toThrow(
      /rate limit/,
    );
    const alice = await fx.connect((await fx.loginOk('alice', 'alice-secret-1')).accessToken);
    const ok = await alice.callTool({ name: 'crm.contact.lookup', arguments: { id: 'c-5' } });
    expect(ok.structuredContent).toEqual({ id: 'c-5', caller: 'alice' });
  });
});

describe('MCP bridge session idle expiry', () => {
  let fx: BridgeFixture;
  beforeAll(async () => {
    fx = await startBridgeFixture({ sessionIdleSeconds: 1 });
  });
  afterAll(() => fx?.close());

  it('ends a session left unused for its idle time (Redis expiry), while use keeps it alive', async () => {
    const idle = await fx.loginOk('bob', 'bob-secret-2');
    const active = await fx.loginOk('alice', 'alice-secret-1');
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 300));
      expect(await status(fx.resourceUrl, active.accessToken)).toBe(200);
    }
    expect(await status(fx.resourceUrl, idle.accessToken)).toBe(401);
    expect(await status(fx.resourceUrl, active.accessToken)).toBe(200);
  });
});

describe('MCP bridge when Redis goes away', () => {
  it('answers 503 (retry later) and lets nobody in, rather than failing open or with 500', async () => {
    const kit = createRedisKit();
    const { url: redisUrl } = await kit.start();
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const bridge = createBridgeHttpServer(
      { port: 0 },
      {
        redis,
        directory: createLocalUsersDirectory(join(tmpdir(), `no-users-${randomUUID()}.json`)),
        policy: testPolicy,
        signingKey: generateSigningKeyPem(),
        tools: testTools,
        emitAction: () => undefined,
        logger: silentLogger(),
      },
    );
    try {
      const { url, resourceUrl } = await bridge.start();
      const token = bridge.tokens.issue({ sub: 'alice', roles: ['admin'], sessionId: randomUUID() }).token;
      // Redis is up: the unknown session is refused as such.
      expect((await postMcp(resourceUrl, token, listToolsBody)).status).toBe(401);
      await kit.stop();
      const res = await postMcp(resourceUrl, token, listToolsBody);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'SESSION_STORE_UNAVAILABLE',
      );
      const login = await fetch(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'whatever-1' }),
      });
      expect(login.status).toBe(503);
    } finally {
      await bridge.close();
      redis.disconnect();
      await kit.stop();
    }
  });
});
