import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BridgeFixture, startBridgeFixture } from './fixture.ts';

describe('MCP bridge login against real OpenLDAP and Redis', () => {
  let fx: BridgeFixture;
  beforeAll(async () => {
    fx = await startBridgeFixture({ loginAttemptsPerWindow: 5 });
  });
  afterAll(() => fx?.close());

  it('logs alice in as admin and bob as analyst, with roles from their LDAP groups', async () => {
    const alice = await fx.loginOk('alice', 'alice-secret-1');
    const bob = await fx.loginOk('bob', 'bob-secret-2');
    expect(alice.roles).toEqual(['admin']);
    expect(bob.roles).toEqual(['analyst']);
    expect(alice.sessionId).not.toBe(bob.sessionId);
    expect(fx.actions.filter((a) => a.action === 'auth.login').map((a) => [a.actor, a.outcome])).toEqual(
      expect.arrayContaining([
        ['alice', 'succeeded'],
        ['bob', 'succeeded'],
      ]),
    );
    // Only the identity is audited: no token or password in any action.
    const audited = JSON.stringify(fx.actions);
    expect(audited).not.toContain(alice.accessToken);
    expect(audited).not.toContain('alice-secret-1');
  });

  it('shows each caller only their tools in tools/list and checks again in tools/call', async () => {
    const alice = await fx.connect((await fx.loginOk('alice', 'alice-secret-1')).accessToken);
    const bob = await fx.connect((await fx.loginOk('bob', 'bob-secret-2')).accessToken);
    const carol = await fx.connect((await fx.loginOk('carol', 'carol-secret-3')).accessToken);
    const names = async (client: typeof alice) => (await client.listTools()).tools.map((t) => t.name).sort();
    expect(await names(alice)).toEqual(['crm.contact.lookup', 'crm.contact.upsert']);
    expect(await names(bob)).toEqual(['crm.contact.lookup']);
    expect(await names(carol)).toEqual([]);

    const lookup = await bob.callTool({ name: 'crm.contact.lookup', arguments: { id: 'c-1' } });
    expect(lookup.structuredContent).toEqual({ id: 'c-1', caller: 'bob' });
    await expect(
      bob.callTool({ name: 'crm.contact.upsert', arguments: { id: 'c-1', name: 'X' } }),
    ).rejects.toThrow(/not found or not permitted/);
    await expect(carol.callTool({ name: 'crm.contact.lookup', arguments: { id: 'c-1' } })).rejects.toThrow(
      /not permitted/,
    );
    const upsert = await alice.callTool({ name: 'crm.contact.upsert', arguments: { id: 'c-2', name: 'Y' } });
    expect(upsert.content).toEqual([{ type: 'text', text: 'upserted c-2 as alice' }]);

    const calls = fx.actions
      .filter((a) => a.action === 'mcp.tool.call')
      .map((a) => [a.actor, a.resource, a.outcome]);
    expect(calls).toEqual(
      expect.arrayContaining([
        ['bob', 'crm.contact.lookup', 'succeeded'],
        ['bob', 'crm.contact.upsert', 'denied'],
        ['carol', 'crm.contact.lookup', 'denied'],
        ['alice', 'crm.contact.upsert', 'succeeded'],
      ]),
    );
  });

  it('refuses wrong passwords, empty passwords and unknown users with 401 and audits the denial', async () => {
    expect((await fx.login('alice', 'wrong')).status).toBe(401);
    expect((await fx.login('nobody', 'x')).status).toBe(401);
    // An empty password would be an anonymous LDAP bind; the bridge must not accept it.
    expect((await fx.login('bob', '')).status).toBe(400);
    const denials = fx.actions.filter((a) => a.action === 'auth.denied').map((a) => a.actor);
    expect(denials).toEqual(expect.arrayContaining(['alice', 'nobody']));
  });

  it.each([
    '*',
    '*)(uid=*))(|(uid=*',
    'alice)(|(uid=*',
    'alice,ou=people,dc=tributary,dc=test',
    'uid=alice,ou=people',
    'alice\u0000',
    'al*',
    '#alice',
  ])('treats the injection attempt %j as a literal, non-existent user name', async (name) => {
    const res = await fx.login(name, 'alice-secret-1');
    expect(res.status).toBe(401);
  });

  it('uses the name the directory stores as the identity, whatever case or spacing LDAP matched', async () => {
    const reply = await fx.loginOk(' ALICE', 'alice-secret-1');
    expect(reply.user).toBe('alice');
  });

  it('rate-limits login attempts per user name with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fx.login('ratelimited-user', 'wrong')).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const res = await fx.login('ratelimited-user', 'wrong');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another user is not affected.
    expect((await fx.login('carol', 'carol-secret-3')).status).toBe(200);
  });
});
