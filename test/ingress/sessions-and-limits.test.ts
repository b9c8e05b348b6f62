import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenService } from '../../security/index.ts';
import { type IngressFixture, startIngressFixture } from './fixture.ts';

/** The shared security layer as the ingress uses it: per-user rate limit, logout ends the token at once. */
describe('HTTP ingress sessions and rate limits', () => {
  let fx: IngressFixture;
  beforeAll(async () => {
    fx = await startIngressFixture({ callsPerWindow: 3, rateWindowSeconds: 60 });
  });
  afterAll(async () => {
    await fx?.close();
  });

  const push = (token: string, externalId: string) =>
    fetch(`${fx.url}/v1/events/crm.account.upsert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ externalId }),
    });

  it('answers 429 with Retry-After past the per-user limit, and other users are unaffected', async () => {
    const pia = await fx.token('pia');
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await push(pia, `LIMIT-${i}`)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const limited = await push(pia, 'LIMIT-X');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const ada = await fx.token('ada');
    expect((await push(ada, 'LIMIT-ADA')).status).toBe(201);
    const published = await fx.records(`${fx.prefix}crm.account.upsert.cmd`);
    expect(published.map((r) => r.event.data.externalId).sort()).toEqual([
      'LIMIT-0',
      'LIMIT-1',
      'LIMIT-2',
      'LIMIT-ADA',
    ]);
  });

  it('refuses a token whose session was logged out, and a token minted for another audience', async () => {
    const ada = await fx.token('ada');
    const logout = await fetch(`${fx.url}/auth/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ada}` },
      body: '{}',
    });
    expect(logout.status).toBe(200);
    const after = await push(ada, 'AFTER-LOGOUT');
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { code: string } }).error.code).toBe('AUTH_SESSION_REVOKED');
    // A token for the MCP bridge (audience <origin>/mcp) is not one for the ingress (<origin>/v1).
    const server = fx.ingress.server();
    const session = await server.sessions.create('ada', ['admin']);
    const own = server.tokens.issue({ sub: 'ada', roles: ['admin'], sessionId: session.sessionId });
    expect((await push(own.token, 'OWN-AUDIENCE')).status).toBe(201);
    const bridgeTokens = createTokenService({
      issuer: server.tokens.issuer,
      audience: `${fx.url}/mcp`,
      algorithm: 'ES256',
      privateKey: fx.signingKey,
      accessTokenTtlSeconds: 60,
      clockToleranceSeconds: 0,
    });
    const foreign = bridgeTokens.issue({ sub: 'ada', roles: ['admin'], sessionId: session.sessionId });
    const refused = await push(foreign.token, 'FOREIGN-AUDIENCE');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
  });
});
