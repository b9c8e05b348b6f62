import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerIngressCommands } from '../../cli/commands/ingress.ts';
import { ACTIONS_TOPIC } from '../../platform/index.ts';
import { upsertLocalUser } from '../../security/index.ts';
import { createTopicsAndWait, testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { type TestRedis, useTestRedis } from '../support/redis.ts';

/** `tributary ingress serve | openapi | token`, run in-process with the environment a user gives. */
describe('tributary ingress CLI', () => {
  let dir: string;
  let redis: TestRedis;
  let env: NodeJS.ProcessEnv;

  async function run(args: string[], extra: Parameters<typeof registerIngressCommands>[1] = {}) {
    const out: string[] = [];
    const program = new Command().exitOverride();
    registerIngressCommands(program, { env, write: (text) => void out.push(text), ...extra });
    await program.parseAsync(['node', 'tributary', 'ingress', ...args]);
    return out.join('');
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-ingress-cli-'));
    redis = await useTestRedis();
    // Topics of its own, and the action topic every request is audited to, made as `tributary
    // topology apply` makes it: without it each audited request waits out the producer's
    // retries before it is answered (about 20 s).
    const prefix = `${uniqueName('ingress-cli')}.`;
    const kafka = testKafka();
    const admin = kafka.kafka.admin();
    await admin.connect();
    try {
      await createTopicsAndWait(admin, {
        topics: [{ topic: `${prefix}${ACTIONS_TOPIC}`, numPartitions: 3 }],
      });
    } finally {
      await admin.disconnect();
    }
    env = {
      ...kafka.env,
      TRIBUTARY_TOPIC_PREFIX: prefix,
      REDIS_URL: redis.url,
      TRIBUTARY_HOME: dir,
      TRIBUTARY_MCP_USERS: join(dir, 'users.json'),
      TRIBUTARY_MCP_KEY_FILE: join(dir, 'key.pem'),
    };
    delete env.SCHEMA_REGISTRY_URL;
    delete env.TRIBUTARY_MCP_POLICY;
    await upsertLocalUser(join(dir, 'users.json'), 'olga', 'olga-secret-1', ['admins']);
  });

  afterAll(async () => {
    await redis?.release();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('openapi prints a valid document with a path per hub command', async () => {
    const doc = JSON.parse(await run(['openapi', '--url', 'https://hub.example'])) as {
      paths: Record<string, unknown>;
      servers: Array<{ url: string }>;
    };
    await SwaggerParser.validate(structuredClone(doc) as never);
    expect(doc.servers[0]?.url).toBe('https://hub.example');
    expect(Object.keys(doc.paths)).toContain('/v1/events/crm.contact.upsert');
  });

  it('serve listens until stopped; login and `ingress token` both give tokens it accepts', async () => {
    const stop = new AbortController();
    let listening: (url: string) => void = () => undefined;
    const urlReady = new Promise<string>((resolve) => {
      listening = resolve;
    });
    const serving = run(['serve', '--port', '0'], {
      stopSignal: stop.signal,
      onListening: (u) => listening(u),
    });
    try {
      const url = await Promise.race([
        urlReady,
        serving.then(() => Promise.reject(new Error('serve ended'))),
      ]);
      const path = `${url}/v1/topics/${uniqueName('absent')}/events`;
      expect((await fetch(path)).status).toBe(401);
      const token = (await run(['token', '--user', 'pipeline', '--roles', 'admin', '--url', url])).trim();
      expect((await fetch(path, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
      const login = await fetch(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'olga', password: 'olga-secret-1' }),
      });
      expect(login.status).toBe(200);
      const { accessToken } = (await login.json()) as { accessToken: string };
      expect((await fetch(path, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(404);
      const spec = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(spec.paths)).toContain('/v1/events/crm.account.upsert');
    } finally {
      stop.abort();
      await serving;
    }
  });
});
