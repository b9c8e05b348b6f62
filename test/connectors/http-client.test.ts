import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BreakerState } from '../../connectors/runtime/endpoint-pool.ts';
import { createHttpClient, type HttpClientInput } from '../../connectors/runtime/http-client.ts';
import type { HubError } from '../../core/errors.ts';
import { type CrmServer, startCrmServer } from '../../demo/crm-server/server.ts';

// The HTTP layer against a real server (the demo CRM) misbehaving on purpose.
let crm: CrmServer;
let replica: CrmServer;
const staticToken = 'integration-user-token';
const query = '/services/data/v60.0/query';
const q = { q: 'SELECT Id, Name FROM Account' };

beforeAll(async () => {
  crm = await startCrmServer({ staticToken, tokenTtlSeconds: 3600 });
  replica = await startCrmServer({ staticToken });
});
afterAll(async () => {
  await crm.close();
  await replica.close();
});
beforeEach(() => {
  crm.faults.clear();
  replica.faults.clear();
});

const oauth = (): HttpClientInput['auth'] => ({
  type: 'oauth2-client-credentials',
  tokenUrl: `${crm.url}/services/oauth2/token`,
  clientId: crm.clientId,
  clientSecret: { env: 'H8_TEST_CRM_SECRET' },
});
const env = () => ({ H8_TEST_CRM_SECRET: crm.clientSecret });
const fastRetry = { retries: 5, initialDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 5_000 };

describe('auth', () => {
  it('fetches an OAuth2 client-credentials token once and reuses it', async () => {
    const before = crm.tokensIssued.count;
    const client = createHttpClient({ endpoints: { urls: [crm.url] }, auth: oauth() }, { env: env() });
    await client.request({ path: query, query: q });
    await client.request({ path: query, query: q });
    expect(crm.tokensIssued.count - before).toBe(1);
    client.close();
  });

  it('refreshes the token once on a 401 and then succeeds', async () => {
    const client = createHttpClient({ endpoints: { urls: [crm.url] }, auth: oauth() }, { env: env() });
    await client.request({ path: query, query: q });
    crm.expireTokens();
    const res = await client.request({ path: query, query: q });
    expect(res.status).toBe(200);
    expect(client.auth.tokenFetches).toBe(2);
    client.close();
  });

  it('refreshes a token that is about to expire before using it', async () => {
    const short = await startCrmServer({ tokenTtlSeconds: 30 });
    try {
      const client = createHttpClient(
        {
          endpoints: { urls: [short.url] },
          auth: {
            ...(oauth() as object),
            tokenUrl: `${short.url}/services/oauth2/token`,
            clientSecret: { value: short.clientSecret },
            refreshBeforeSeconds: 30,
          } as HttpClientInput['auth'],
        },
        {},
      );
      await client.request({ path: query, query: q });
      await client.request({ path: query, query: q });
      // Every token is within refreshBeforeSeconds of expiry, so each request fetched a new one.
      expect(short.tokensIssued.count).toBe(2);
      client.close();
    } finally {
      await short.close();
    }
  });

  it('reads secrets from a file and never puts them in error messages', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'h8-secret-'));
    try {
      await writeFile(join(dir, 'secret'), 'wrong-secret\n');
      const client = createHttpClient({
        endpoints: { urls: [crm.url] },
        auth: {
          ...(oauth() as object),
          clientSecret: { file: join(dir, 'secret') },
        } as HttpClientInput['auth'],
      });
      const err = (await client.request({ path: query, query: q }).catch((e: unknown) => e)) as HubError;
      expect(err.code).toBe('AUTH_TOKEN_REJECTED');
      expect(err.retriable).toBe(false);
      expect(JSON.stringify({ m: err.message, w: err.where, h: err.hint })).not.toContain('wrong-secret');
      client.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the missing environment variable', async () => {
    const client = createHttpClient({ endpoints: { urls: [crm.url] }, auth: oauth() }, { env: {} });
    await expect(client.request({ path: query, query: q })).rejects.toThrow(/H8_TEST_CRM_SECRET is not set/);
    client.close();
  });
});

describe('retries', () => {
  const bearer = { type: 'bearer' as const, token: { value: staticToken } };

  it('retries 500s, resets, half responses and timeouts, then succeeds', async () => {
    const retries: string[] = [];
    const client = createHttpClient(
      {
        endpoints: { urls: [crm.url], breaker: { volumeThreshold: 100 } as never },
        auth: bearer,
        retry: fastRetry,
        timeoutMs: 300,
      },
      { events: { retry: (i) => retries.push(i.error.code) } },
    );
    crm.faults.inject({ kind: 'status', status: 500 });
    crm.faults.inject({ kind: 'reset' });
    crm.faults.inject({ kind: 'half-response' });
    crm.faults.inject({ kind: 'slow', delayMs: 2_000 });
    const res = await client.request<{ done: boolean }>({ path: query, query: q });
    expect(res.body.done).toBe(true);
    expect(res.attempts).toBe(5);
    expect(retries).toEqual(['HTTP_UNAVAILABLE', 'HTTP_NETWORK', 'HTTP_NETWORK', 'HTTP_TIMEOUT']);
    client.close();
  });

  it('waits as long as a 429 Retry-After asks', async () => {
    const delays: number[] = [];
    const client = createHttpClient(
      { endpoints: { urls: [crm.url] }, auth: bearer, retry: fastRetry },
      { events: { retry: (i) => delays.push(i.delayMs) } },
    );
    crm.faults.inject({ kind: 'rate-limit', retryAfterSeconds: 1 });
    const res = await client.request({ path: query, query: q });
    expect(res.status).toBe(200);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(1_000);
    client.close();
  });

  it('does not retry a permanent 4xx and returns the system answer', async () => {
    const client = createHttpClient({ endpoints: { urls: [crm.url] }, auth: bearer, retry: fastRetry });
    const err = (await client
      .request({ path: query, query: { q: 'SELECT Nope FROM Account' } })
      .catch((e: unknown) => e)) as HubError & { status: number; body: unknown };
    expect(err.code).toBe('HTTP_REJECTED');
    expect(err.retriable).toBe(false);
    expect(err.status).toBe(400);
    expect(err.body).toEqual([
      { message: "No such column 'Nope' on entity 'Account'", errorCode: 'INVALID_FIELD', fields: [] },
    ]);
    client.close();
  });

  it('does not retry an unkeyed POST-like write but does retry a keyed one', async () => {
    const client = createHttpClient({ endpoints: { urls: [crm.url] }, auth: bearer, retry: fastRetry });
    const path = '/services/data/v60.0/sobjects/Account/ExtId__c/RETRY-1';
    crm.faults.inject({ kind: 'status', status: 503 });
    await expect(client.request({ method: 'PATCH', path, body: { Name: 'R' } })).rejects.toMatchObject({
      code: 'HTTP_UNAVAILABLE',
    });
    crm.faults.inject({ kind: 'apply-then-drop' });
    const before = crm.writes.count;
    const res = await client.request<{ created: boolean }>({
      method: 'PATCH',
      path,
      body: { Name: 'R' },
      idempotencyKey: 'cmd-1',
    });
    expect(res.body.created).toBe(true);
    expect(crm.writes.count - before).toBe(2);
    const rows = [...crm.records.get('Account')!.values()].filter((r) => r.ExtId__c === 'RETRY-1');
    expect(rows).toHaveLength(1);
    client.close();
  });
});

describe('breakers and endpoints', () => {
  const bearer = { type: 'bearer' as const, token: { value: staticToken } };

  it('opens the breaker under a 500 storm, fails fast while open, and recovers', async () => {
    const changes: BreakerState[] = [];
    const client = createHttpClient(
      {
        endpoints: {
          urls: [crm.url],
          breaker: {
            volumeThreshold: 3,
            errorThresholdPercentage: 50,
            resetTimeoutMs: 300,
            rollingWindowMs: 10_000,
          },
        },
        auth: bearer,
        retry: { ...fastRetry, retries: 10 },
      },
      { events: { breaker: (_e, s) => changes.push(s) } },
    );
    crm.faults.inject({ kind: 'status', status: 500 }, 50);
    const err = (await client.request({ path: query, query: q }).catch((e: unknown) => e)) as HubError;
    expect(err.code).toBe('CIRCUIT_OPEN');
    expect(changes).toContain('open');
    const hitsWhileOpen = crm.faults.hits.status;
    await expect(client.request({ path: query, query: q })).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(crm.faults.hits.status).toBe(hitsWhileOpen);
    crm.faults.clear();
    await client.pool.whenAvailable();
    const res = await client.request({ path: query, query: q });
    expect(res.status).toBe(200);
    expect(changes.slice(-2)).toEqual(['half-open', 'closed']);
    client.close();
  });

  it('spreads requests round-robin and by weight', async () => {
    const rr = createHttpClient({ endpoints: { urls: [crm.url, replica.url] }, auth: bearer });
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push((await rr.request({ path: query, query: q })).endpoint);
    expect(seen).toEqual([crm.url, replica.url, crm.url, replica.url]);
    rr.close();
    const weighted = createHttpClient({
      endpoints: {
        urls: [
          { url: crm.url, weight: 3 },
          { url: replica.url, weight: 1 },
        ],
        strategy: 'weighted',
      },
      auth: bearer,
    });
    const counts = new Map<string, number>();
    for (let i = 0; i < 8; i++) {
      const { endpoint } = await weighted.request({ path: query, query: q });
      counts.set(endpoint, (counts.get(endpoint) ?? 0) + 1);
    }
    expect(counts.get(crm.url)).toBe(6);
    expect(counts.get(replica.url)).toBe(2);
    weighted.close();
  });

  it('sends new requests to the endpoint with the fewest in flight', async () => {
    const client = createHttpClient({
      endpoints: { urls: [crm.url, replica.url], strategy: 'least-connections' },
      auth: bearer,
    });
    crm.faults.inject({ kind: 'slow', delayMs: 400 });
    const slow = client.request({ path: query, query: q });
    const others = [];
    for (let i = 0; i < 3; i++) others.push((await client.request({ path: query, query: q })).endpoint);
    expect(others).toEqual([replica.url, replica.url, replica.url]);
    expect((await slow).endpoint).toBe(crm.url);
    client.close();
  });

  it('takes an endpoint out while its health check fails, and fails over while its breaker is open', async () => {
    const client = createHttpClient({
      endpoints: {
        urls: [crm.url, replica.url],
        healthPath: '/health',
        healthIntervalMs: 100,
        breaker: {
          volumeThreshold: 2,
          errorThresholdPercentage: 50,
          resetTimeoutMs: 60_000,
          rollingWindowMs: 10_000,
        },
      },
      auth: bearer,
      retry: fastRetry,
    });
    replica.faults.inject({ kind: 'status', status: 503 }, 1_000, (req) => req.url === '/health');
    client.start();
    await expect.poll(() => client.pool.endpoints[1]!.healthy).toBe(false);
    for (let i = 0; i < 3; i++)
      expect((await client.request({ path: query, query: q })).endpoint).toBe(crm.url);
    replica.faults.clear();
    await expect.poll(() => client.pool.endpoints[1]!.healthy).toBe(true);
    // Now break the first endpoint: its breaker opens and everything goes to the replica.
    crm.faults.inject({ kind: 'status', status: 500 }, 1_000, (req) => req.url !== '/health');
    for (let i = 0; i < 6; i++) expect((await client.request({ path: query, query: q })).status).toBe(200);
    expect(client.pool.endpoints[0]!.state()).toBe('open');
    client.close();
  });
});
