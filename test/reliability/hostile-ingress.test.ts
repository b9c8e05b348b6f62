import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngressFixture, startIngressFixture } from '../ingress/fixture.ts';
import { type Mutator, mutator, runSeed, seededRandom } from './hostile-bytes.ts';
import { createTally } from './tally.ts';

/**
 * 10,000 hostile bodies to the HTTP ingress (`POST /v1/events/{type}`) with a valid token:
 * malformed JSON, invalid UTF-8, wrong types, values the Avro schema refuses, oversized bodies,
 * odd event types and Idempotency-Keys. Each gets a 4xx with an error body, the server stays up,
 * and nothing reaches the command topic.
 */

const tally = createTally(import.meta.filename);
afterAll(() => void tally.report());

const seed = runSeed();
const BODIES = 10_000;
const MAX_BODY = 4096;

type Kind =
  | 'malformed'
  | 'invalid-utf8'
  | 'bad-field'
  | 'not-an-object'
  | 'oversized'
  | 'bad-type'
  | 'bad-idempotency-key';

const bad = {
  externalId: [42, null, {}, [], true, undefined],
  name: [42, {}, [], false],
  annualRevenue: ['abc', {}, true, 'NaN', '1e400', [1]],
};

function badBody(m: Mutator): Record<string, unknown> {
  const forced = m.pick(Object.keys(bad) as (keyof typeof bad)[]);
  const body: Record<string, unknown> = { externalId: `ext-${m.int(1000)}` };
  for (const key of Object.keys(bad) as (keyof typeof bad)[]) {
    if (key === forced || m.int(3) === 0) body[key] = m.pick(bad[key]);
  }
  if (m.int(4) === 0) body[m.pick(['__proto__', 'constructor', 'extra', ''])] = { polluted: true };
  return body;
}

function hostile(m: Mutator): {
  kind: Kind;
  type: string;
  body: string | Buffer;
  headers: Record<string, string>;
} {
  const type = 'crm.account.upsert';
  const kind =
    m.int(100) === 0
      ? 'oversized'
      : m.pick<Kind>([
          'malformed',
          'invalid-utf8',
          'bad-field',
          'not-an-object',
          'bad-type',
          'bad-idempotency-key',
        ]);
  const valid = JSON.stringify({ externalId: 'ok', name: 'n' });
  switch (kind) {
    case 'malformed':
      return {
        kind,
        type,
        headers: {},
        body: m.pick([
          valid.slice(0, m.int(valid.length)),
          '{',
          "{'externalId':'x'}",
          `${valid}}`,
          m.bytes(m.int(60)).toString('latin1'),
        ]),
      };
    case 'invalid-utf8':
      return {
        kind,
        type,
        headers: {},
        body: Buffer.concat([
          Buffer.from('{"externalId":"'),
          m.bytes(1 + m.int(10)).map((b) => b | 0x80),
          Buffer.from('","name":42}'),
        ]),
      };
    case 'bad-field':
      return { kind, type, headers: {}, body: JSON.stringify(badBody(m)) };
    case 'not-an-object':
      return {
        kind,
        type,
        headers: {},
        body: JSON.stringify(m.pick([[], [badBody(m)], 'x', 42, null, true])),
      };
    case 'oversized':
      return {
        kind,
        type,
        headers: {},
        body: JSON.stringify({ externalId: 'big', name: 'x'.repeat(MAX_BODY) }),
      };
    case 'bad-type':
      return {
        kind,
        type: encodeURIComponent(
          m.pick([
            'crm.account.upsertx',
            '../admin',
            'tributary.crm.Nothing',
            'crm.account.upsert.res',
            '',
            '%00',
            'image.analyze',
            'x'.repeat(300),
          ]),
        ),
        headers: {},
        body: JSON.stringify(badBody(m)),
      };
    case 'bad-idempotency-key':
      return {
        kind,
        type,
        headers: { 'idempotency-key': m.pick(['', ' ', 'x'.repeat(5000), '\t\t']) },
        body: JSON.stringify(badBody(m)),
      };
  }
}

describe(`hostile HTTP ingress bodies (seed ${seed})`, () => {
  let fx: IngressFixture;
  let token: string;
  const accountTopic = () => `${fx.prefix}crm.account.upsert.cmd`;

  beforeAll(async () => {
    fx = await startIngressFixture({ maxBodyBytes: MAX_BODY, callsPerWindow: 1_000_000 });
    token = await fx.token('pia');
  });
  afterAll(async () => {
    await fx?.close();
  });

  it(`${BODIES} hostile bodies: each a 4xx with an error, the server stays up, nothing published`, {
    timeout: 120_000,
  }, async () => {
    const m = mutator(seededRandom(seed));
    const statuses = new Map<number, number>();
    const kinds = new Map<Kind, number>();
    const wrong: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < BODIES) {
        const i = next++;
        const input = hostile(m);
        kinds.set(input.kind, (kinds.get(input.kind) ?? 0) + 1);
        const res = await fetch(`${fx.url}/v1/events/${input.type}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...input.headers },
          body: typeof input.body === 'string' ? input.body : new Uint8Array(input.body),
        }).catch((err: unknown) => err as Error);
        if (res instanceof Error) {
          // A header value fetch itself refuses never leaves the client: nothing was sent.
          if (input.kind === 'bad-idempotency-key') continue;
          throw res;
        }
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const ok = res.status >= 400 && res.status < 500 && (res.status === 404 || /error/i.test(text));
        if (!ok && wrong.filter((w) => w.includes(` ${input.kind} `)).length < 2) {
          wrong.push(
            `#${i} ${input.kind} -> ${res.status} ${text.slice(0, 200)} for ${String(input.body).slice(0, 200)}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    tally.add(
      { inputsTried: BODIES },
      `HTTP ingress: ${BODIES} bodies (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}) -> HTTP ${[...statuses].map(([s, n]) => `${s}:${n}`).join(' ')}`,
    );
    expect(wrong).toEqual([]);

    // Still up; a genuine event is then the only record on the topic.
    const genuine = await fetch(`${fx.url}/v1/events/crm.account.upsert`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ externalId: 'genuine', name: 'Genuine' }),
    });
    expect(genuine.status).toBe(201);
    const records = await fx.records(accountTopic());
    expect(records.map((r) => r.event.data.externalId)).toEqual(['genuine']);
  });
});
