import { createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMcpCommands } from '../../cli/commands/mcp.ts';
import { createLocalUsersDirectory, createSessionStore, createTokenService } from '../../security/index.ts';
import { useTestRedis } from '../support/redis.ts';
import { type BridgeFixture, startBridgeFixture } from './fixture.ts';

describe('MCP bridge over stdio (SDK client, child process)', () => {
  async function connect(name: string, roles: string) {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(import.meta.dirname, 'stdio-server.ts'), name, roles],
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(transport);
    return { client, actions: () => stderr };
  }

  it('acts as the operator identity given at start, with the policy of its roles', async () => {
    const { client, actions } = await connect('ops-user', 'operator');
    try {
      const names = (await client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual(['crm.contact.lookup', 'hub.whoami']);
      const whoami = await client.callTool({ name: 'hub.whoami', arguments: {} });
      expect(whoami.structuredContent).toEqual({ user: 'ops-user', roles: ['operator'], sessionId: 'stdio' });
      await expect(
        client.callTool({ name: 'crm.contact.upsert', arguments: { id: 'a', name: 'b' } }),
      ).rejects.toThrow(/not permitted/);
    } finally {
      await client.close();
    }
    expect(actions()).toContain(
      '"action":"mcp.tool.call","actor":"ops-user","resource":"hub.whoami","outcome":"succeeded"',
    );
    expect(actions()).toContain('"resource":"crm.contact.upsert","outcome":"denied"');
  });
});

describe('local users file (embedded directory, scrypt)', () => {
  let dir: string;
  let usersFile: string;
  let fx: BridgeFixture;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-mcp-users-'));
    usersFile = join(dir, 'users.json');
    fx = await startBridgeFixture({}, { directory: createLocalUsersDirectory(usersFile) });
  });
  afterAll(async () => {
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const addUser = async (name: string, password: string, groups: string) => {
    const out: string[] = [];
    const program = new Command().exitOverride();
    registerMcpCommands(program, {
      env: { TRIBUTARY_MCP_USERS: usersFile, TRIBUTARY_MCP_PASSWORD: password },
      write: (text) => void out.push(text),
    });
    await program.parseAsync(['mcp', 'users', 'add', name, '--groups', groups], { from: 'user' });
    return out.join('');
  };

  it('`tributary mcp users add` stores an scrypt hash, never the password', async () => {
    expect(await addUser('dave', 'dave-password-9', 'analysts')).toContain('user dave saved');
    const text = await readFile(usersFile, 'utf8');
    expect(text).not.toContain('dave-password-9');
    expect(JSON.parse(text).users[0]).toMatchObject({ name: 'dave', groups: ['analysts'] });
    expect(JSON.parse(text).users[0].passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/);
  });

  it('logs a local user in with roles from the policy and refuses wrong or unknown credentials', async () => {
    await addUser('erin', 'erin-password-7', 'admins');
    const dave = await fx.loginOk('dave', 'dave-password-9');
    expect(dave.roles).toEqual(['analyst']);
    expect((await fx.loginOk('erin', 'erin-password-7')).roles).toEqual(['admin']);
    expect((await fx.login('dave', 'dave-password-8')).status).toBe(401);
    expect((await fx.login('mallory', 'dave-password-9')).status).toBe(401);
    const client = await fx.connect(dave.accessToken);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['crm.contact.lookup']);
  });

  it('a changed password applies at the next login', async () => {
    await addUser('dave', 'dave-new-password', 'analysts');
    expect((await fx.login('dave', 'dave-password-9')).status).toBe(401);
    expect((await fx.login('dave', 'dave-new-password')).status).toBe(200);
  });
});

describe('tributary mcp token (development tokens)', () => {
  it('opens a session in Redis and prints a token the bridge accepts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-mcp-token-'));
    const redis = await useTestRedis();
    try {
      const env = { REDIS_URL: redis.url, TRIBUTARY_MCP_KEY_FILE: join(dir, 'key.pem'), TRIBUTARY_HOME: dir };
      const out: string[] = [];
      const program = new Command().exitOverride();
      registerMcpCommands(program, { env, write: (text) => void out.push(text) });
      await program.parseAsync(
        ['mcp', 'token', '--user', 'dev', '--roles', 'analyst', '--url', 'http://127.0.0.1:7301'],
        {
          from: 'user',
        },
      );
      const token = out.join('').trim();
      const tokens = createTokenService({
        issuer: 'http://127.0.0.1:7301',
        audience: 'http://127.0.0.1:7301/mcp',
        algorithm: 'ES256',
        publicKey: createPublicKey(await readFile(join(dir, 'key.pem'), 'utf8')),
        accessTokenTtlSeconds: 900,
        clockToleranceSeconds: 5,
      });
      const identity = tokens.verify(token);
      expect(identity).toMatchObject({ sub: 'dev', roles: ['analyst'] });
      const client = new Redis(redis.url);
      const sessions = createSessionStore({ redis: client, idleTtlSeconds: 60, maxLifetimeSeconds: 600 });
      expect(await sessions.touch(identity.sessionId, 'dev')).toMatchObject({
        sub: 'dev',
        roles: ['analyst'],
      });
      client.disconnect();
    } finally {
      await redis.release();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to run without REDIS_URL (usage error)', async () => {
    const program = new Command().exitOverride();
    registerMcpCommands(program, { env: {} });
    await expect(program.parseAsync(['mcp', 'token', '--user', 'dev'], { from: 'user' })).rejects.toThrow(
      /REDIS_URL/,
    );
  });
});
