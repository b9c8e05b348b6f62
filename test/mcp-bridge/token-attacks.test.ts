import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BridgeFixture,
  type LoginReply,
  listToolsBody,
  postMcp,
  startBridgeFixture,
} from './fixture.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('MCP bridge refuses forged, stale and misdirected tokens', () => {
  let fx: BridgeFixture;
  let bob: LoginReply;
  let claims: Record<string, unknown>;
  beforeAll(async () => {
    fx = await startBridgeFixture({ maxBodyBytes: 64 * 1024 });
    bob = await fx.loginOk('bob', 'bob-secret-2');
    claims = jwt.decode(bob.accessToken) as Record<string, unknown>;
  });
  afterAll(() => fx?.close());

  /** A token with bob's real session, signed with the bridge's own key, changed in one way. */
  const signed = (overrides: Record<string, unknown>, options: jwt.SignOptions = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = { ...claims, iat: now, nbf: now, exp: now + 300, ...overrides };
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
    return jwt.sign(payload, fx.signingKey, { algorithm: 'ES256', ...options });
  };

  const expectRefused = async (token: string | undefined, error = /invalid_token/) => {
    const res = await postMcp(fx.resourceUrl, token, listToolsBody);
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(`resource_metadata="${fx.url}/.well-known/oauth-protected-resource"`);
    expect(challenge).toMatch(error);
    return (await res.json()) as { error: { code: string } };
  };

  it('accepts the genuine token (so each refusal below is about the attack)', async () => {
    const res = await postMcp(fx.resourceUrl, bob.accessToken, listToolsBody);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('crm.contact.lookup');
    const resigned = await postMcp(fx.resourceUrl, signed({}), listToolsBody);
    expect(resigned.status).toBe(200);
  });

  it('answers a request without a token with 401 and a challenge naming the metadata document', async () => {
    const body = await expectRefused(undefined, /^Bearer resource_metadata="[^"]+"$/);
    expect(body.error.code).toBe('AUTH_TOKEN_MISSING');
    const metadata = await (await fetch(`${fx.url}/.well-known/oauth-protected-resource`)).json();
    expect(metadata).toMatchObject({
      resource: fx.resourceUrl,
      authorization_servers: [fx.url],
      bearer_methods_supported: ['header'],
    });
  });

  it('refuses alg none', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, roles: ['admin'] })}.`;
    expect((await expectRefused(token)).error.code).toBe('AUTH_TOKEN_INVALID');
  });

  it('refuses HS256 signed with the public key as HMAC secret (algorithm confusion)', async () => {
    const publicPem = createPublicKey(fx.signingKey).export({ type: 'spki', format: 'pem' }).toString();
    const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, roles: ['admin'] })}`;
    const mac = createHmac('sha256', publicPem).update(head).digest('base64url');
    expect((await expectRefused(`${head}.${mac}`)).error.code).toBe('AUTH_TOKEN_INVALID');
  });

  it('refuses a token signed by another key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const now = Math.floor(Date.now() / 1000);
    const token = jwt.sign({ ...claims, iat: now, nbf: now, exp: now + 300 }, privateKey, {
      algorithm: 'ES256',
    });
    expect((await expectRefused(token)).error.code).toBe('AUTH_TOKEN_INVALID');
  });

  it('refuses an expired token and a token not valid yet', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await expectRefused(signed({ iat: now - 600, nbf: now - 600, exp: now - 60 }))).error.code).toBe(
      'AUTH_TOKEN_EXPIRED',
    );
    expect((await expectRefused(signed({ nbf: now + 120 }))).error.code).toBe('AUTH_TOKEN_NOT_YET_VALID');
  });

  it('refuses a token without exp or nbf', async () => {
    expect((await expectRefused(signed({ exp: undefined }))).error.code).toBe('AUTH_TOKEN_INVALID');
    expect((await expectRefused(signed({ nbf: undefined }))).error.code).toBe('AUTH_TOKEN_INVALID');
  });

  it('refuses a wrong audience and a wrong issuer', async () => {
    expect((await expectRefused(signed({ aud: 'http://other.example/mcp' }))).error.code).toBe(
      'AUTH_TOKEN_INVALID',
    );
    expect((await expectRefused(signed({ iss: 'http://evil.example' }))).error.code).toBe(
      'AUTH_TOKEN_INVALID',
    );
  });

  it('refuses a tampered payload (roles or subject changed, signature kept)', async () => {
    const [head, , signature] = bob.accessToken.split('.');
    for (const change of [{ roles: ['admin'] }, { sub: 'alice' }]) {
      const token = `${head}.${b64({ ...claims, ...change })}.${signature}`;
      expect((await expectRefused(token)).error.code).toBe('AUTH_TOKEN_INVALID');
    }
  });

  it('refuses a valid signature over a session that does not exist', async () => {
    const token = signed({ sid: '00000000-0000-4000-8000-000000000000' });
    expect((await expectRefused(token)).error.code).toBe('AUTH_SESSION_REVOKED');
  });

  it('refuses browser requests from a foreign origin (DNS rebinding) and accepts its own', async () => {
    const withOrigin = (origin: string) =>
      fetch(fx.resourceUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${bob.accessToken}`,
          origin,
        },
        body: listToolsBody,
      });
    expect((await withOrigin('http://evil.example')).status).toBe(403);
    expect((await withOrigin(fx.url)).status).toBe(200);
  });

  it('ran no tool for any refused request', () => {
    expect(fx.actions.filter((a) => a.action === 'mcp.tool.call')).toEqual([]);
  });

  it('answers an oversized body with 413 and a malformed body with a JSON-RPC parse error (400)', async () => {
    const huge = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
      params: { pad: 'x'.repeat(70 * 1024) },
    });
    expect((await postMcp(fx.resourceUrl, bob.accessToken, huge)).status).toBe(413);
    const malformed = await postMcp(
      fx.resourceUrl,
      bob.accessToken,
      '{"jsonrpc": "2.0", "id": 1, "method": ',
    );
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 }, id: null });
    const notRpc = await postMcp(fx.resourceUrl, bob.accessToken, JSON.stringify({ hello: 'world' }));
    expect(notRpc.status).toBe(400);
    // Login has the same limit.
    const bigLogin = await fetch(`${fx.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bob', password: 'x'.repeat(70 * 1024) }),
    });
    expect(bigLogin.status).toBe(413);
  });
});
