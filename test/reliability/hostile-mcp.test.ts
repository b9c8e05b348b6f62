import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaHubTools } from '../../mcp-bridge/hub-tools.ts';
import { createReplyRouter, type ReplyRouter } from '../../mcp-bridge/reply-router.ts';
import { toolsFromDeclarations } from '../../mcp-bridge/tools-from-declarations.ts';
import { type BridgeFixture, type LoginReply, postMcp, startBridgeFixture } from '../mcp-bridge/fixture.ts';
import { roundTripDeclaration } from '../mcp-bridge/roundtrip-declaration.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { type Mutator, mutator, runSeed, seededRandom } from './hostile-bytes.ts';
import { createTopics, recordsIn, reliabilityHub, waitUntil } from './support.ts';
import { createTally } from './tally.ts';

/**
 * 10,000 hostile JSON-RPC messages to the bridge's MCP endpoint, with a valid admin token so they
 * reach the JSON-RPC layer and the Kafka-backed tools: malformed JSON, wrong types, huge ids,
 * unknown methods, bad tool arguments, batches, oversized bodies. Each must get a JSON-RPC error
 * or a 4xx (never a 5xx, never a hang), the server must stay up, and nothing may reach Kafka.
 */

const tally = createTally(import.meta.filename);
afterAll(() => void tally.report());

const seed = runSeed();
const MESSAGES = 10_000;
const MAX_BODY = 64 * 1024;

const names = {
  cmd: uniqueName('rel.crm.contact.upsert.cmd'),
  res: uniqueName('rel.crm.contact.upsert.res'),
  silentCmd: uniqueName('rel.crm.account.upsert.cmd'),
  silentRes: uniqueName('rel.crm.account.upsert.res'),
};
const publishTopic = uniqueName('rel.mcp.published');

type Kind =
  | 'malformed'
  | 'invalid-utf8'
  | 'wrong-types'
  | 'huge-id'
  | 'unknown-method'
  | 'bad-tool-call'
  | 'batch'
  | 'oversized';

/** Values of every JSON type, some of them nasty. */
function anyValue(m: Mutator, depth = 0): unknown {
  switch (m.int(depth > 3 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return m.pick([true, false]);
    case 2:
      return m.pick([0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.5, -0, 4294967296]);
    case 3:
      return m.pick(['', '__proto__', 'constructor', '\u0000', '\ud800', 'x'.repeat(5000), '{"a":1}']);
    case 4:
      return m.bytes(m.int(40)).toString('latin1');
    case 5:
      return {};
    case 6:
      return Array.from({ length: m.int(4) }, () => anyValue(m, depth + 1));
    case 7:
      return { __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } };
    default:
      return Object.fromEntries(
        Array.from({ length: 1 + m.int(4) }, (_, i) => [
          m.pick(['id', 'name', 'topic', `k${i}`]),
          anyValue(m, depth + 1),
        ]),
      );
  }
}

/** Arguments that break the tool's input schema (so a correct bridge never publishes them). */
function badArguments(m: Mutator): { name: unknown; arguments: unknown } {
  switch (m.int(6)) {
    case 0: // the CRM command without its required externalId, or with a wrong type
      return {
        name: 'crm.contact.upsert',
        arguments: m.pick([{}, { externalId: anyValue(m) === null ? 42 : 42 }, { firstName: 'x' }]),
      };
    case 1: // events.publish to a topic it does not know, or with data the schema refuses
      return {
        name: 'events.publish',
        arguments: m.pick([
          { topic: publishTopic, type: 'tributary.audit.Action', subject: 's', data: anyValue(m) },
          { topic: uniqueName('rel.unknown'), type: 'tributary.audit.Action', subject: 's', data: {} },
          { topic: publishTopic, type: 'tributary.nope.Nothing', subject: 's', data: {} },
          { topic: publishTopic, type: 'tributary.audit.Action', data: {} },
        ]),
      };
    case 2:
      return { name: anyValue(m), arguments: anyValue(m) };
    case 3:
      return {
        name: m.pick(['crm.contact.upsert', 'events.publish']),
        arguments: m.pick(['str', 7, [], null]),
      };
    case 4:
      return {
        name: `${m.pick(['crm.contact.upsert', 'events.publish'])}${m.pick(['x', ' ', '\u0000', '/..'])}`,
        arguments: {},
      };
    default:
      return {
        name: 'crm.contact.upsert',
        arguments: { externalId: 'x', firstName: anyValue(m), nope: true },
      };
  }
}

function message(m: Mutator): { kind: Kind; body: string | Buffer } {
  const id = m.int(1000);
  const valid = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list', params: {} });
  const kind =
    m.int(150) === 0
      ? 'oversized'
      : m.pick<Kind>([
          'malformed',
          'invalid-utf8',
          'wrong-types',
          'huge-id',
          'unknown-method',
          'bad-tool-call',
          'batch',
        ]);
  switch (kind) {
    case 'malformed':
      return {
        kind,
        body: m.pick([
          valid.slice(0, m.int(valid.length)),
          m.bytes(m.int(100)).toString('latin1'),
          valid.replace(':', ''),
          `${valid}}`,
          `{"jsonrpc":"2.0","id":${id},"method":"tools/list","params":{}`,
          "{'jsonrpc':'2.0'}",
          '',
          'null',
        ]),
      };
    case 'invalid-utf8':
      return {
        kind,
        body: Buffer.concat([
          Buffer.from(valid.slice(0, 20)),
          m.bytes(1 + m.int(20)),
          Buffer.from(valid.slice(20)),
        ]),
      };
    case 'wrong-types': {
      // Each field right or wrong, at least one wrong.
      const wrong = {
        jsonrpc: m.pick(['1.0', 2, null]),
        id: m.pick([{}, [], true, 1.5]),
        method: m.pick([42, null, {}, ['tools/list']]),
        params: m.pick(['x', 3, [1], { name: 3 }]),
      };
      const right = { jsonrpc: '2.0', id, method: m.pick(['tools/call', 'resources/read']), params: {} };
      const forced = m.pick(Object.keys(wrong) as (keyof typeof wrong)[]);
      const fields = Object.fromEntries(
        (Object.keys(wrong) as (keyof typeof wrong)[]).map((k) => [
          k,
          k === forced || m.int(2) === 0 ? wrong[k] : right[k],
        ]),
      );
      return { kind, body: JSON.stringify(fields) };
    }
    case 'huge-id':
      // Bodies as text: numbers JSON.stringify could not write.
      return {
        kind,
        body: `{"jsonrpc":"2.0","id":${m.pick(['1e400', '-1e400', '18446744073709551616123456789', `"${'9'.repeat(20_000)}"`, '1.7976931348623157e308', `${'1'.repeat(400)}`])},"method":"${m.pick(['tools/list', 'nope/nope', 'tools/call'])}","params":{}}`,
      };
    case 'unknown-method':
      return {
        kind,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: m.pick([
            'tools/calll',
            'rpc.discover',
            '__proto__',
            'constructor',
            'resources/write',
            'tools/delete',
            m.bytes(12).toString('hex'),
          ]),
          params: anyValue(m),
        }),
      };
    case 'bad-tool-call':
      return {
        kind,
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: badArguments(m) }),
      };
    case 'batch':
      return {
        kind,
        body: JSON.stringify(
          Array.from({ length: m.int(5) }, () => ({
            jsonrpc: '2.0',
            id: m.int(9),
            method: 'tools/call',
            params: badArguments(m),
          })),
        ),
      };
    case 'oversized':
      return {
        kind,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: {
            name: 'crm.contact.upsert',
            arguments: { externalId: 'big', firstName: 'x'.repeat(MAX_BODY) },
          },
        }),
      };
  }
}

/** The JSON-RPC messages of a response body, JSON or server-sent events. */
function rpcMessages(contentType: string, text: string): unknown[] {
  if (text === '') return [];
  if (contentType.includes('text/event-stream')) {
    return text
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => JSON.parse(l.slice(5)));
  }
  const parsed = JSON.parse(text);
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** True when the reply refuses the message: a JSON-RPC error or a tool result marked isError. */
function refused(reply: unknown): boolean {
  const r = reply as {
    jsonrpc?: string;
    error?: { code?: unknown; message?: unknown };
    result?: { isError?: boolean };
  };
  if (r.jsonrpc !== '2.0') return false;
  if (r.error) return Number.isInteger(r.error.code) && typeof r.error.message === 'string';
  return r.result?.isError === true;
}

/** A normal answer whose id is the request's id, character for character. */
function answered(reply: unknown, body: string | Buffer): boolean {
  const r = reply as { jsonrpc?: string; id?: unknown; result?: unknown };
  const sentId = /"id":("[^"]*"|[^,]*),/.exec(String(body))?.[1];
  return (
    r.jsonrpc === '2.0' && r.result !== undefined && sentId !== undefined && JSON.stringify(r.id) === sentId
  );
}

describe(`hostile MCP JSON-RPC messages (seed ${seed})`, () => {
  let hub: Awaited<ReturnType<typeof reliabilityHub>>;
  let router: ReplyRouter;
  let hubTools: ReturnType<typeof createKafkaHubTools>;
  let fx: BridgeFixture;
  let alice: LoginReply;

  beforeAll(async () => {
    hub = await reliabilityHub(testKafka().brokers);
    await createTopics(hub.kafka, [...Object.values(names), publishTopic], 1);
    router = createReplyRouter({
      kafka: hub.kafka,
      serde: hub.serde,
      producer: hub.producer,
      resultTopics: [names.res, names.silentRes],
      timeoutMs: 2_000,
    });
    await router.start();
    hubTools = createKafkaHubTools(hub, new Map([[publishTopic, 'tributary.audit.Action']]));
    const tools = [
      ...toolsFromDeclarations([roundTripDeclaration(names)], hub.catalog, router.runCommand),
      ...hubTools.tools,
    ];
    fx = await startBridgeFixture(
      { toolCallsPerWindow: 1_000_000, loginAttemptsPerWindow: 1000, maxBodyBytes: MAX_BODY },
      { tools },
    );
    alice = await fx.loginOk('alice', 'alice-secret-1');
  });
  afterAll(async () => {
    await fx?.close();
    await router?.close();
    await hubTools?.close();
    await hub?.close();
  });

  it(`${MESSAGES} hostile messages: each a JSON-RPC error or 4xx, the server stays up, nothing reaches Kafka`, {
    timeout: 120_000,
  }, async () => {
    const m = mutator(seededRandom(seed));
    const statuses = new Map<number, number>();
    const kinds = new Map<Kind, number>();
    const bad: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < MESSAGES) {
        const i = next++;
        const { kind, body } = message(m);
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        const res = await postMcp(fx.resourceUrl, alice.accessToken, body as string);
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        let ok: boolean;
        if (res.status === 202)
          ok = text === ''; // a notification (no id): accepted, never answered
        else if (res.status >= 400 && res.status < 500) ok = true;
        else if (res.status === 200) {
          try {
            const replies = rpcMessages(res.headers.get('content-type') ?? '', text);
            // A huge but legal id on a legal method is answered normally, echoing the id.
            ok =
              replies.length > 0 &&
              replies.every((r) => refused(r) || (kind === 'huge-id' && answered(r, body)));
          } catch {
            ok = false;
          }
        } else ok = false;
        if (!ok && bad.filter((b) => b.includes(` ${kind} `)).length < 2)
          bad.push(`#${i} ${kind} -> ${res.status} ${text.slice(0, 300)} for ${String(body).slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    tally.add(
      { inputsTried: MESSAGES },
      `MCP JSON-RPC: ${MESSAGES} messages (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}) -> HTTP ${[...statuses].map(([s, n]) => `${s}:${n}`).join(' ')}`,
    );
    expect(bad).toEqual([]);
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);

    // Still up and answering a genuine request.
    const list = await postMcp(
      fx.resourceUrl,
      alice.accessToken,
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    );
    expect(list.status).toBe(200);
    expect(await list.text()).toContain('events.publish');

    // Nothing reached Kafka: a genuine publish afterwards is the only record.
    const genuine = await postMcp(
      fx.resourceUrl,
      alice.accessToken,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: {
          name: 'events.publish',
          arguments: {
            topic: publishTopic,
            type: 'tributary.audit.Action',
            subject: 'genuine',
            data: {
              action: 'x',
              actor: 'alice',
              resource: 'r',
              outcome: 'succeeded',
              argsDigest: null,
              subjectId: null,
              details: {},
            },
          },
        },
      }),
    );
    expect(genuine.status).toBe(200);
    await waitUntil(
      'the genuine publish',
      async () => (await recordsIn(hub.kafka, publishTopic)) >= 1,
      20_000,
    );
    expect(await recordsIn(hub.kafka, publishTopic)).toBe(1);
    expect(await recordsIn(hub.kafka, names.cmd)).toBe(0);
    expect(await recordsIn(hub.kafka, names.silentCmd)).toBe(0);
  });
});
