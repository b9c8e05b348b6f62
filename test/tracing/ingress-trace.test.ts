import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerText } from '../../platform/index.ts';
import { waitFor } from '../audit/kafka-support.ts';
import { type IngressFixture, startIngressFixture } from '../ingress/fixture.ts';
import { ids, newTraceparent, parseTraceparent, useMemorySpans } from './support.ts';

/** The HTTP ingress continues a client's traceparent: a SERVER span, and the event carries it. */

let memory: Awaited<ReturnType<typeof useMemorySpans>>;
let fx: IngressFixture;
let token: string;

beforeAll(async () => {
  memory = await useMemorySpans();
  fx = await startIngressFixture();
  token = await fx.token('pia');
});

afterAll(async () => {
  await fx?.close();
  await memory?.stop();
});

async function push(externalId: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${fx.url}/v1/events/crm.account.upsert`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ externalId }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
}

describe('tracing the HTTP ingress', () => {
  it('continues an incoming traceparent, or starts a trace, and the published event carries it', async () => {
    const caller = newTraceparent();
    const traced = await push('TRACE-1', { traceparent: caller.header, tracestate: 'client=1' });
    const fresh = await push('TRACE-2');
    const topic = `${fx.prefix}crm.account.upsert.cmd`;
    const records = await fx.records(topic);
    const carried = (id: string) => {
      const record = records.find((r) => r.event.envelope.id === id);
      return {
        traceparent: headerText(record?.headers, 'traceparent'),
        tracestate: headerText(record?.headers, 'tracestate'),
      };
    };
    const route = 'POST /v1/events/{type}';
    await waitFor('two SERVER spans', () => memory.spans().filter((s) => s.name === route).length >= 2);
    const spans = memory.spans();
    const servers = spans.filter((s) => s.name === route);

    const first = carried(traced.id);
    expect(parseTraceparent(first.traceparent).traceId).toBe(caller.traceId);
    expect(first.tracestate).toBe('client=1');
    const server = servers.find((s) => ids(s).traceId === caller.traceId);
    expect(server?.kind).toBe(1); // SERVER
    expect(ids(server!).parentId).toBe(caller.spanId);
    expect(server?.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/events/{type}',
      'http.response.status_code': 201,
    });
    const send = spans.find((s) => ids(s).spanId === parseTraceparent(first.traceparent).parentId);
    expect(send?.name).toBe(`send ${topic}`);
    expect(ids(send!).parentId).toBe(ids(server!).spanId);

    // Without a traceparent the request starts a trace of its own, and the event carries that.
    const second = parseTraceparent(carried(fresh.id).traceparent);
    const root = servers.find((s) => ids(s).traceId === second.traceId);
    expect(root).toBeDefined();
    expect(root?.parentSpanContext).toBeUndefined();
    expect(second.traceId).not.toBe(caller.traceId);
  });
});
