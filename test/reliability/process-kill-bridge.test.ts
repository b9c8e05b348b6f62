import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { runConnectors } from '../../connectors/index.ts';
import { silentLogger } from '../../core/logger.ts';
import { type CrmServer, crmConnectorHttp, startCrmServer } from '../../demo/crm-server/server.ts';
import { freePort } from '../../kit/redis.ts';
import { IDEMPOTENCY_META_KEY } from '../../mcp-bridge/call-id.ts';
import { createHubAdmin } from '../../platform/admin.ts';
import { createHubContext, type HubContext } from '../../platform/index.ts';
import { createSessionStore, createTokenService, loadOrCreateSigningKey } from '../../security/index.ts';
import { applyTopology, planTopology, readActualTopics } from '../../topology/apply.ts';
import { buildHubTopology } from '../../topology/hub-topology.ts';
import { type CliProcess, startCli } from '../hub/cli-process.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { useTestRedis } from '../support/redis.ts';
import { waitUntil } from './support.ts';
import { createTally } from './tally.ts';

/**
 * Process faults (issue 10): `tributary mcp serve` runs as a child process; MCP clients call
 * `crm.account.upsert`, whose commands the CRM connector handles against the demo CRM. The bridge
 * is killed with SIGKILL while calls are in flight, twice, and restarted on the same port (same
 * Redis, same signing key, so tokens stay valid). Each client retries a failed call with the same
 * idempotency key until it gets an answer: every call must get its result, and the CRM must have
 * applied each command once (the retried command has the same id, which the connector sends to
 * the CRM as its idempotency key).
 */

const tally = createTally(import.meta.filename);
afterAll(() => void tally.report());

const CLIENTS = 4;
const CALLS_PER_CLIENT = 12;
const CALLS = CLIENTS * CALLS_PER_CLIENT;

const prefix = `${uniqueName('rel-kill-mcp')}.`;
let crm: CrmServer;
let hub: HubContext;
let dir: string;
const children: CliProcess[] = [];
const stopConnector = new AbortController();
let connector: Promise<void> | undefined;

beforeAll(async () => {
  crm = await startCrmServer();
  hub = await createHubContext({ env: testKafka().env, logger: silentLogger() });
  dir = await mkdtemp(join(tmpdir(), 'tributary-rel-kill-mcp-'));
  // Every hub topic under the prefix (the bridge follows every result topic).
  const admin = createHubAdmin(hub.kafka);
  await admin.start();
  const topology = buildHubTopology({ env: testKafka().env, brokerCount: 1, prefix });
  await applyTopology(planTopology(topology, await readActualTopics(topology, admin)), admin, {
    prune: false,
  });
  await admin.close();
}, 120_000);
afterAll(async () => {
  for (const c of children)
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  stopConnector.abort();
  await connector?.catch(() => undefined);
  await hub?.close();
  await crm?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('MCP bridge process killed mid-call', () => {
  it(`${CALLS} tool calls across two SIGKILLs: every retried call answered, no command applied twice`, {
    timeout: 150_000,
  }, async () => {
    const configFile = join(dir, 'connectors.yaml');
    await writeFile(
      configFile,
      stringifyYaml({
        crm: {
          topicPrefix: prefix,
          offsetsTopic: `${prefix}_tributary.source-offsets`,
          groupId: uniqueName('rel-kill-mcp-crm'),
          entities: ['account'],
          pollIntervalMs: 60_000,
          http: crmConnectorHttp(crm),
        },
      }),
    );
    let connectorUp!: () => void;
    const connectorStarted = new Promise<void>((done) => {
      connectorUp = done;
    });
    connector = runConnectors(['crm'], {
      configFile,
      hub,
      logger: silentLogger(),
      signal: stopConnector.signal,
      onStarted: () => connectorUp(),
    });
    await connectorStarted;
    // Slow CRM writes: calls are still waiting for their result when the bridge dies.
    crm.faults.inject({ kind: 'slow', delayMs: 250 }, 1_000_000, (req) => req.method === 'PATCH');

    const redis = await useTestRedis();
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const keyFile = join(dir, 'signing-key.pem');
    const env = {
      ...process.env,
      ...testKafka().env,
      TRIBUTARY_HOME: dir,
      TRIBUTARY_TOPIC_PREFIX: prefix,
      TRIBUTARY_LOG_LEVEL: 'warn',
      REDIS_URL: redis.url,
      TRIBUTARY_MCP_KEY_FILE: keyFile,
    };
    // Tokens as `tributary mcp token` mints them: a session in the shared Redis, signed with the shared key.
    const connection = new Redis(redis.url);
    const sessions = createSessionStore({
      redis: connection,
      idleTtlSeconds: 1800,
      maxLifetimeSeconds: 43200,
    });
    const tokens = createTokenService({
      issuer: origin,
      audience: `${origin}/mcp`,
      algorithm: 'ES256',
      privateKey: await loadOrCreateSigningKey(keyFile),
      accessTokenTtlSeconds: 900,
      clockToleranceSeconds: 5,
    });
    const tokenFor = async (user: string) =>
      tokens.issue({
        sub: user,
        roles: ['admin'],
        sessionId: (await sessions.create(user, ['admin'])).sessionId,
      }).token;
    const startBridge = () => {
      const p = startCli(['mcp', 'serve', '--port', String(port)], env);
      children.push(p);
      return p;
    };

    let bridge = startBridge();
    await bridge.opsUrl(90_000);
    const results = new Map<string, Record<string, unknown>>();
    const retried = new Set<string>();
    let failedAttempts = 0;
    const errors: string[] = [];
    const deadline = Date.now() + 120_000;

    /** One agent: its calls one after the other, each retried with its key until answered. */
    const agent = async (n: number) => {
      const token = await tokenFor(`agent-${n}`);
      let client: Client | undefined;
      for (let i = 0; i < CALLS_PER_CLIENT; i++) {
        const externalId = `${prefix}${n}-${i}`;
        const key = randomUUID();
        for (;;) {
          try {
            if (!client) {
              client = new Client({ name: `agent-${n}`, version: '1.0.0' });
              await client.connect(
                new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), {
                  requestInit: { headers: { authorization: `Bearer ${token}` } },
                }),
              );
            }
            const answer = await client.callTool(
              {
                name: 'crm.account.upsert',
                arguments: { externalId, name: `Agent ${n} call ${i}`, industry: 'Retail' },
                _meta: { [IDEMPOTENCY_META_KEY]: key },
              },
              undefined,
              // The SDK client does not fail a call whose stream the dying server cut (it has no
              // event id to resume from): it waits for its timeout, then the agent retries.
              { timeout: 8_000 },
            );
            if (answer.isError) throw new Error(`tool error: ${JSON.stringify(answer.content)}`);
            results.set(externalId, answer.structuredContent as Record<string, unknown>);
            break;
          } catch (err) {
            failedAttempts++;
            errors.push(`${externalId}: ${(err as Error).message}`.slice(0, 300));
            retried.add(externalId);
            await client?.close().catch(() => undefined);
            client = undefined;
            if (Date.now() > deadline) throw err;
            await new Promise((r) => setTimeout(r, 300));
          }
        }
      }
      await client?.close().catch(() => undefined);
    };
    const agents = Promise.all(Array.from({ length: CLIENTS }, (_, n) => agent(n)));
    agents.catch(() => undefined);

    let kills = 0;
    for (const killAt of [CALLS / 4, CALLS / 2]) {
      await waitUntil(
        () =>
          `${killAt} answers (${results.size}); last errors: ${errors.slice(-8).join('\n')}\nbridges: ${children.map((c) => c.stderr().slice(-1500)).join('\n----\n')}`,
        () => results.size >= killAt,
        60_000,
      );
      bridge.proc.kill('SIGKILL');
      await bridge.exited();
      kills++;
      bridge = startBridge();
      await bridge.opsUrl(90_000);
    }
    await agents;
    bridge.proc.kill('SIGTERM');
    expect(await bridge.exited(), bridge.stderr().slice(-2000)).toBe(0);
    connection.disconnect();

    const accounts = [...(crm.records.get('Account')?.values() ?? [])];
    const expected = Array.from({ length: CLIENTS }, (_, n) =>
      Array.from({ length: CALLS_PER_CLIENT }, (_, i) => `${prefix}${n}-${i}`),
    ).flat();
    const missing = expected.filter((id) => results.get(id)?.outcome !== 'succeeded');
    const applied = expected.map((id) => {
      const rows = accounts.filter((a) => a.ExtId__c === id);
      return rows.length === 1 ? (crm.changes.get(`Account:${rows[0]?.Id}`) ?? 0) : rows.length * 1000;
    });
    const twice = applied.filter((n) => n !== 1).length;
    tally.add(
      { faultsInjected: kills, eventsChecked: CALLS, eventsLost: missing.length },
      `MCP bridge process: ${CALLS} tool calls from ${CLIENTS} clients, ${kills} SIGKILLs mid-call; ${retried.size} call(s) retried (${failedAttempts} failed attempt(s)) with their idempotency key, all answered; ${crm.writes.count - CALLS} CRM write(s) re-sent and replayed by key; ${twice} applied twice`,
    );
    expect(missing).toEqual([]);
    // The kills hit calls in flight: some were retried, and still none was applied twice.
    expect(retried.size).toBeGreaterThan(0);
    expect(twice).toBe(0);
  });
});
