import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHttpClient } from '../../connectors/runtime/http-client.ts';
import { type CrmServer, startCrmServer } from '../../demo/crm-server/server.ts';
import { createTally } from './tally.ts';

/**
 * A 429's Retry-After (issue 10) holds for every request the connector's client sends to that
 * endpoint, not only for the request that got it: a source poll or another command sent while
 * one request waits out the Retry-After must wait too, or the rate-limited system sees it early.
 */
const tally = createTally(import.meta.filename);
afterAll(() => void tally.report());

const staticToken = 'retry-after-token';
const query = '/services/data/v60.0/query';
let crm: CrmServer;

beforeAll(async () => {
  crm = await startCrmServer({ staticToken });
});
afterAll(async () => crm?.close());

it('a request sent while another waits out a 429 Retry-After waits for the same instant', async () => {
  let told: () => void = () => undefined;
  const rateLimited = new Promise<void>((resolve) => {
    told = resolve;
  });
  const client = createHttpClient(
    {
      endpoints: { urls: [crm.url] },
      auth: { type: 'bearer', token: { value: staticToken } },
      retry: { retries: 3, initialDelayMs: 10, maxDelayMs: 50, maxRetryAfterMs: 5_000 },
      timeoutMs: 5_000,
    },
    // The client has read the 429 once it decides to retry the request that got it.
    { events: { retry: () => told() } },
  );
  // When each request reached the server; the first is answered 429 with Retry-After: 1.
  const arrived: number[] = [];
  const seen = (_req: IncomingMessage) => {
    arrived.push(performance.now());
    return true;
  };
  crm.faults.inject({ kind: 'rate-limit', retryAfterSeconds: 1 }, 1, seen);
  crm.faults.inject({ kind: 'slow', delayMs: 0 }, 1_000, seen);
  const first = client.request({ path: query, query: { q: 'SELECT Id FROM Account' } });
  await rateLimited;
  const second = client.request({ path: query, query: { q: 'SELECT Id, Name FROM Account' } });
  const answers = await Promise.all([first, second]);
  crm.faults.clear();
  client.close();
  const rateLimitedAt = arrived[0]!;
  const after = arrived.slice(1).map((t) => Math.round(t - rateLimitedAt));
  tally.add(
    { faultsInjected: 1, eventsChecked: 2 },
    `crm client: requests arrived ${after.join(', ')} ms after a 429 with Retry-After: 1`,
  );
  expect(answers.map((a) => a.status)).toEqual([200, 200]);
  expect(after).toHaveLength(2);
  for (const ms of after) expect(ms).toBeGreaterThanOrEqual(1_000 - 20);
});
