import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSourceOffsetStore } from '../../connectors/index.ts';
import { createHubContext, type HubContext } from '../../platform/index.ts';
import { hubHostTools } from '../../topology/hub-tools/index.ts';
import { editLine, locate, makeKeys, tempDir, writeChain } from '../audit/support.ts';
import { createTopicsAndWait, type TestKafka, testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { startTestBridge, type TestBridge } from './bridge.ts';

// replay.start, audit.verify and connectors.status through the SDK client, the bridge and the
// default policy, against a real broker, a real audit chain and real source offsets.

let tk: TestKafka;
let hub: HubContext;
let bridge: TestBridge;
let audit: { dir: string; cleanup: () => Promise<void> };
let admin: Client;
const source = uniqueName('hub-tools.source');
const offsetsTopic = uniqueName('_tributary.source-offsets');
const erpGroup = uniqueName('erp-sink');

type Structured = Record<string, unknown>;
async function call(client: Client, name: string, args: Record<string, unknown>) {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as Structured;
}

async function records(topic: string): Promise<number> {
  const a = tk.kafka.admin();
  await a.connect();
  try {
    const offsets = await a.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await a.disconnect();
  }
}

beforeAll(async () => {
  tk = testKafka();
  hub = await createHubContext({ env: tk.env, schemaLogTopic: uniqueName('_tributary.schemas') });
  const actionsTopic = uniqueName('hub.actions');
  const a = tk.kafka.admin();
  await a.connect();
  await createTopicsAndWait(a, {
    topics: [
      { topic: source, numPartitions: 2, replicationFactor: -1 },
      { topic: actionsTopic, numPartitions: 1, replicationFactor: -1 },
    ],
  });
  await a.disconnect();
  await hub.producer.publishRaw(
    source,
    Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`v${i}`), headers: {} })),
  );
  const offsets = createSourceOffsetStore({ kafka: hub.kafka, producer: hub.producer, topic: offsetsTopic });
  await offsets.start();
  await offsets.commit('connector.erp/customer', { stamp: '2026-11-01T10:00:00.000Z', key: 'C-7' });
  await offsets.commit('connector.hr/employee', null);
  await offsets.close();

  audit = await tempDir('tributary-hub-tools-audit-');
  const { keys, json } = makeKeys();
  await writeChain(audit.dir, keys, 30);
  const keyFile = join(audit.dir, 'keys.json');
  await writeFile(keyFile, json);

  bridge = await startTestBridge({
    hub,
    extraTools: hubHostTools({
      hub,
      audit: { dir: audit.dir, keyFile, env: {} },
      connectorsConfig: {
        erp: { offsetsTopic, groupId: erpGroup },
        crm: { offsetsTopic },
        hr: { offsetsTopic },
      },
      instancesTopic: uniqueName('_tributary.instances'),
      replayCheckpointTopic: uniqueName('_tributary.replays'),
      actionsTopic,
    }),
  });
  admin = await bridge.connect('admin');
}, 60_000);

afterAll(async () => {
  await bridge?.close();
  await hub?.close();
  await audit?.cleanup();
});

describe('hub tools through the MCP bridge', () => {
  it('shows replay.start to admins only and the watching tools to operators too (default policy); refuses the call to others', async () => {
    const names = (await admin.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['replay.start', 'audit.verify', 'connectors.status']));
    const tools = (await admin.listTools()).tools;
    const replay = tools.find((t) => t.name === 'replay.start');
    expect(replay?.outputSchema).toBeDefined();
    expect(replay?.inputSchema.required).toEqual(['topic', 'from']);

    const analyst = await bridge.connect('analyst');
    const visible = (await analyst.listTools()).tools.map((t) => t.name);
    expect(visible).not.toContain('replay.start');
    expect(visible).not.toContain('audit.verify');
    expect(visible).not.toContain('connectors.status');
    const denied = await analyst
      .callTool({
        name: 'replay.start',
        arguments: { topic: source, from: 'earliest', groupId: 'g', dryRun: true },
      })
      .then(
        (r) => r.isError === true,
        () => true,
      );
    expect(denied).toBe(true);

    // Operators watch (status, verify) but may not move offsets or copy data.
    const operator = await bridge.connect('operator');
    const operatorTools = (await operator.listTools()).tools.map((t) => t.name);
    expect(operatorTools).toEqual(expect.arrayContaining(['audit.verify', 'connectors.status']));
    expect(operatorTools).not.toContain('replay.start');
  });

  it('replay.start copies a range into a topic: a dry run writes nothing, the real run writes it all', async () => {
    const target = uniqueName('hub-tools.target');
    const a = tk.kafka.admin();
    await a.connect();
    await createTopicsAndWait(a, {
      topics: [{ topic: target, numPartitions: 2, replicationFactor: -1 }],
    });
    await a.disconnect();
    const plan = await call(admin, 'replay.start', {
      topic: source,
      into: target,
      from: 'earliest',
      dryRun: true,
    });
    expect(plan).toMatchObject({ mode: 'into', dryRun: true, status: 'dry-run', total: 6, matching: 6 });
    expect(await records(target)).toBe(0);
    const done = await call(admin, 'replay.start', {
      topic: source,
      into: target,
      from: 'earliest',
      createTarget: true,
    });
    expect(done).toMatchObject({
      mode: 'into',
      dryRun: false,
      status: 'finished',
      writtenNow: 6,
      written: 6,
    });
    expect(await records(target)).toBe(6);
    // The same call again resumes the same replay id: nothing is written twice.
    const again = await call(admin, 'replay.start', { topic: source, into: target, from: 'earliest' });
    expect(again).toMatchObject({ replayId: done.replayId, writtenNow: 0 });
    expect(await records(target)).toBe(6);
  });

  it('replay.start resets an inactive consumer group (dry run first)', async () => {
    const groupId = uniqueName('replayed-group');
    const plan = await call(admin, 'replay.start', {
      topic: source,
      groupId,
      from: 'earliest',
      dryRun: true,
    });
    expect(plan).toMatchObject({ mode: 'group', dryRun: true });
    expect((plan.partitions as unknown[]).length).toBe(2);
    await call(admin, 'replay.start', { topic: source, groupId, from: 'latest' });
    const a = tk.kafka.admin();
    await a.connect();
    const [committed] = await a.fetchOffsets({ groupId, topics: [source] });
    await a.disconnect();
    const sum = committed!.partitions.reduce((n, p) => n + Number(p.offset), 0);
    expect(sum).toBe(6);
  });

  it('audit.verify says ok for an intact chain and names the first bad entry after tampering', async () => {
    const ok = await call(admin, 'audit.verify', {});
    expect(ok.ok).toBe(true);
    expect(ok.chains).toEqual([expect.objectContaining({ chain: '0', entries: 30 })]);

    const { file, line } = await locate(audit.dir, 17);
    await editLine(file, line, (text) => {
      const entry = JSON.parse(text);
      entry.time += 1;
      return JSON.stringify(entry);
    });
    const bad = await call(admin, 'audit.verify', {});
    expect(bad.ok).toBe(false);
    expect(bad.problem).toMatchObject({ chain: '0', seq: 17, reason: 'hash-mismatch' });
  });

  it('connectors.status lists every connector with its source cursors and sink group', async () => {
    const status = await call(admin, 'connectors.status', {});
    const connectors = status.connectors as {
      name: string;
      sink: { groupId: string; state: string; members: number };
      streams: { stream: string; cursor: unknown }[];
      instances: unknown[];
    }[];
    expect(connectors.map((c) => c.name)).toEqual(['connector.erp', 'connector.crm', 'connector.hr']);
    const erp = connectors[0]!;
    expect(erp.sink).toMatchObject({ groupId: erpGroup, members: 0 });
    expect(erp.streams).toEqual([
      {
        stream: 'customer',
        cursor: { stamp: '2026-11-01T10:00:00.000Z', key: 'C-7' },
        committedAt: expect.any(String),
      },
    ]);
    expect(connectors[2]!.streams).toEqual([
      { stream: 'employee', cursor: null, committedAt: expect.any(String) },
    ]);
    expect(erp.instances).toEqual([]);
    const one = await call(admin, 'connectors.status', { name: 'hr' });
    expect((one.connectors as { name: string }[]).map((c) => c.name)).toEqual(['connector.hr']);
  });
});
