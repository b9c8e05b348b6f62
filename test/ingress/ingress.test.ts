import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngressFixture, startIngressFixture } from './fixture.ts';

/**
 * The HTTP ingress end to end, against a real broker and a real Redis: what is accepted lands
 * on Kafka with the caller as actor, what is wrong is refused naming the field, retries with an
 * Idempotency-Key publish once, and every /v1 call leaves exactly one audit action.
 */
describe('HTTP ingress', () => {
  let fx: IngressFixture;
  let pia = '';
  let ada = '';
  /** /v1 calls made, to match against the audit actions at the end. */
  let apiCalls = 0;
  const accountTopic = () => `${fx.prefix}crm.account.upsert.cmd`;

  async function post(type: string, body: unknown, headers: Record<string, string> = {}) {
    apiCalls++;
    const res = await fetch(`${fx.url}/v1/events/${type}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { res, json: (await res.json()) as Record<string, unknown> & { error?: Record<string, string> } };
  }

  async function get(path: string, token: string) {
    apiCalls++;
    const res = await fetch(`${fx.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { res, json: (await res.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    fx = await startIngressFixture({ maxBodyBytes: 4096 });
    pia = await fx.token('pia');
    ada = await fx.token('ada');
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('refuses calls without a valid bearer token, with WWW-Authenticate, and publishes nothing', async () => {
    const none = await post('crm.account.upsert', { externalId: 'A-1' });
    expect(none.res.status).toBe(401);
    const challenge = none.res.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(
      /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource"/,
    );
    const bad = await post('crm.account.upsert', { externalId: 'A-1' }, { authorization: `Bearer ${pia}x` });
    expect(bad.res.status).toBe(401);
    expect(bad.res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const metadata = (await (await fetch(`${fx.url}/.well-known/oauth-protected-resource`)).json()) as {
      resource: string;
    };
    expect(metadata.resource).toBe(`${fx.url}/v1`);
    expect(await fx.records(accountTopic())).toHaveLength(0);
  });

  it('publishes a valid event (201) that decodes from Kafka with the caller as actor', async () => {
    const body = { externalId: 'ACME-1', name: 'Acme', annualRevenue: '1250000.5', billingCountry: 'CH' };
    const { res, json } = await post('crm.account.upsert', body, { authorization: `Bearer ${pia}` });
    expect(res.status).toBe(201);
    expect(json).toMatchObject({ topic: accountTopic() });
    expect(typeof json.id).toBe('string');
    const viaFullName = await post(
      'tributary.crm.AccountUpsert',
      { externalId: 'ACME-2' },
      { authorization: `Bearer ${pia}` },
    );
    expect(viaFullName.res.status).toBe(201);
    const records = await fx.records(accountTopic());
    const mine = records.find((r) => r.event.envelope.id === json.id);
    expect(mine).toBeDefined();
    expect(mine?.partition).toBe(json.partition);
    expect(mine?.offset).toBe(json.offset);
    expect(mine?.key?.toString()).toBe('ACME-1');
    expect(mine?.event.envelope).toMatchObject({
      type: 'tributary.crm.AccountUpsert',
      source: 'ingress',
      actor: 'pia',
      subject: 'ACME-1',
    });
    expect(mine?.event.data).toMatchObject({
      externalId: 'ACME-1',
      name: 'Acme',
      annualRevenue: '1250000.50',
    });
    // The token itself travels nowhere.
    expect(JSON.stringify(mine?.event)).not.toContain(pia.slice(-20));
  });

  it('refuses bodies that do not fit the schema with 400 naming the field', async () => {
    const auth = { authorization: `Bearer ${ada}` };
    const missing = await post('crm.account.upsert', { name: 'No id' }, auth);
    expect(missing.res.status).toBe(400);
    expect(missing.json.error).toMatchObject({ code: 'INGRESS_INVALID_BODY', field: 'externalId' });
    const wrongType = await post('crm.account.upsert', { externalId: 'A-2', name: 42 }, auth);
    expect(wrongType.res.status).toBe(400);
    expect(wrongType.json.error?.field).toBe('name');
    const badDecimal = await post('crm.account.upsert', { externalId: 'A-3', annualRevenue: 'lots' }, auth);
    expect(badDecimal.res.status).toBe(400);
    expect(badDecimal.json.error?.field).toBe('annualRevenue');
    const image = { uri: 'blob:sha256/abc', size: 10, mediaType: 'image/png', sha256: 'ab'.repeat(32) };
    const badEnum = await post('image.analyze', { image, analyses: ['smell'] }, auth);
    expect(badEnum.res.status).toBe(400);
    expect(badEnum.json.error?.field).toMatch(/^analyses/);
    expect(badEnum.json.error?.message).toContain('smell');
    const unknownField = await post('crm.account.upsert', { externalId: 'A-4', colour: 'red' }, auth);
    expect(unknownField.res.status).toBe(400);
    expect(unknownField.json.error?.field).toBe('colour');
    const notJson = await post('crm.account.upsert', '{"externalId":', auth);
    expect(notJson.res.status).toBe(400);
    const valid = await post('image.analyze', { image, analyses: ['text'] }, auth);
    expect(valid.res.status).toBe(201);
    const accounts = await fx.records(accountTopic());
    expect(accounts.map((r) => r.event.data.externalId).sort()).toEqual(['ACME-1', 'ACME-2']);
  });

  it('answers 413 to a body over the limit', async () => {
    const body = { externalId: 'BIG', name: 'x'.repeat(5000) };
    const { res, json } = await post('crm.account.upsert', body, { authorization: `Bearer ${pia}` });
    expect(res.status).toBe(413);
    expect(json.error?.code).toBe('HTTP_BODY_TOO_LARGE');
  });

  it('answers 403 for a type the caller’s roles do not allow', async () => {
    const image = { uri: 'blob:sha256/abc', size: 10, mediaType: 'image/png', sha256: 'ab'.repeat(32) };
    const { res, json } = await post(
      'image.analyze',
      { image, analyses: ['text'] },
      { authorization: `Bearer ${pia}` },
    );
    expect(res.status).toBe(403);
    expect(json.error?.code).toBe('AUTH_FORBIDDEN');
    const unknown = await post('crm.nothing.here', {}, { authorization: `Bearer ${pia}` });
    expect(unknown.res.status).toBe(404);
  });

  it('honours Idempotency-Key: a retry gets the same id and nothing is published twice; another body gets 422', async () => {
    const key = randomUUID();
    const auth = { authorization: `Bearer ${pia}` };
    const body = { externalId: 'IDEM-1', name: 'Once Ltd' };
    const first = await post('crm.account.upsert', body, { ...auth, 'idempotency-key': key });
    expect(first.res.status).toBe(201);
    // Same body, other key order and spacing: the same request.
    const again = await post('crm.account.upsert', '{ "name": "Once Ltd", "externalId": "IDEM-1" }', {
      ...auth,
      'idempotency-key': key,
    });
    expect(again.res.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expect(again.res.headers.get('idempotent-replayed')).toBe('true');
    const other = await post(
      'crm.account.upsert',
      { externalId: 'IDEM-1', name: 'Twice Ltd' },
      { ...auth, 'idempotency-key': key },
    );
    expect(other.res.status).toBe(422);
    expect(other.json.error?.code).toBe('INGRESS_IDEMPOTENCY_MISMATCH');
    const records = (await fx.records(accountTopic())).filter((r) => r.event.data.externalId === 'IDEM-1');
    expect(records).toHaveLength(1);
    expect(records[0]?.event.envelope.id).toBe(first.json.id);
  });

  it('publishes once when the same Idempotency-Key arrives concurrently', async () => {
    const key = randomUUID();
    const auth = { authorization: `Bearer ${pia}`, 'idempotency-key': key };
    const body = { externalId: 'RACE-1', name: 'Race Ltd' };
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => post('crm.account.upsert', body, auth)),
    );
    const statuses = replies.map((r) => r.res.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const ids = new Set(replies.filter((r) => r.res.status === 201).map((r) => r.json.id));
    expect(ids.size).toBe(1);
    const after = await post('crm.account.upsert', body, auth);
    expect(after.res.status).toBe(201);
    expect(ids.has(after.json.id)).toBe(true);
    const records = (await fx.records(accountTopic())).filter((r) => r.event.data.externalId === 'RACE-1');
    expect(records).toHaveLength(1);
  });

  it('pages through the decoded events of a topic with a cursor, by partition and from a time', async () => {
    const auth = { authorization: `Bearer ${pia}` };
    const before = await fx.records(accountTopic());
    for (let i = 0; i < 7; i++) {
      const { res } = await post('crm.account.upsert', { externalId: `PAGE-${i}` }, auth);
      expect(res.status).toBe(201);
    }
    const all = await fx.records(accountTopic());
    expect(all.length).toBe(before.length + 7);
    const seen: string[] = [];
    let path = `/v1/topics/${accountTopic()}/events?limit=3&from=0`;
    for (let pages = 0; pages < 10; pages++) {
      const { res, json } = await get(path, pia);
      expect(res.status).toBe(200);
      const events = json.events as Array<{
        partition: number;
        offset: string;
        event: { envelope: { id: string; actor: string } };
      }>;
      expect(events.length).toBeLessThanOrEqual(3);
      for (const e of events) seen.push(e.event.envelope.id);
      if (!json.hasMore) break;
      path = `/v1/topics/${accountTopic()}/events?limit=3&cursor=${json.next as string}`;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(all.map((r) => r.event.envelope.id).sort());

    const partition = all[0]?.partition ?? 0;
    const inPartition = all.filter((r) => r.partition === partition);
    const byPartition = await get(
      `/v1/topics/${accountTopic()}/events?partition=${partition}&limit=100`,
      pia,
    );
    const partitionEvents = byPartition.json.events as Array<{ partition: number; offset: string }>;
    expect(partitionEvents.map((e) => e.offset)).toEqual(inPartition.map((r) => r.offset));

    const cut = Math.max(...before.map((r) => Number(r.timestamp))) + 1;
    const fromTime = await get(
      `/v1/topics/${accountTopic()}/events?from=${new Date(cut).toISOString()}&limit=100`,
      pia,
    );
    const later = all.filter((r) => Number(r.timestamp) >= cut).map((r) => r.event.envelope.id);
    const fromTimeIds = (fromTime.json.events as Array<{ event: { envelope: { id: string } } }>).map(
      (e) => e.event.envelope.id,
    );
    expect(fromTimeIds.sort()).toEqual(later.sort());
    expect(later.length).toBeGreaterThanOrEqual(7);

    const badCursor = await get(`/v1/topics/${accountTopic()}/events?cursor=nonsense`, pia);
    expect(badCursor.res.status).toBe(400);
    const noTopic = await get(`/v1/topics/${fx.prefix}no.such.topic/events`, pia);
    expect(noTopic.res.status).toBe(404);
  });

  it('reports exactly one audit action per /v1 call, with the verified actor and the outcome', async () => {
    const actionsTopic = `${fx.prefix}hub.actions`;
    let actions = await fx.records(actionsTopic);
    // Actions are awaited before each reply, so all are on the topic by now.
    actions = actions.filter((a) => String(a.event.data.action).startsWith('ingress.'));
    expect(actions).toHaveLength(apiCalls);
    const data = actions.map(
      (a) => a.event.data as Record<string, unknown> & { details: Record<string, string> },
    );
    const by = (action: string, outcome: string) =>
      data.filter((d) => d.action === action && d.outcome === outcome);
    expect(by('ingress.auth.denied', 'denied')).toHaveLength(2);
    expect(by('ingress.event.publish', 'denied').map((d) => d.actor)).toEqual(['pia']);
    expect(by('ingress.event.publish', 'failed').some((d) => d.details.code === 'INGRESS_INVALID_BODY')).toBe(
      true,
    );
    expect(by('ingress.event.publish', 'failed').some((d) => d.details.code === 'HTTP_BODY_TOO_LARGE')).toBe(
      true,
    );
    expect(
      by('ingress.event.publish', 'failed').some((d) => d.details.code === 'INGRESS_IDEMPOTENCY_MISMATCH'),
    ).toBe(true);
    const accepted = by('ingress.event.publish', 'succeeded');
    expect(accepted.length).toBeGreaterThanOrEqual(11);
    expect(accepted.every((d) => typeof d.argsDigest === 'string' && d.actor !== 'anonymous')).toBe(true);
    expect(by('ingress.events.read', 'succeeded').length).toBeGreaterThanOrEqual(3);
  });
});
