import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { createMcpBridge } from '../../mcp-bridge/component.ts';
import { createReplyRouter, type ReplyRouter } from '../../mcp-bridge/reply-router.ts';
import type { BridgeTool } from '../../mcp-bridge/tools.ts';
import { toolsFromDeclarations } from '../../mcp-bridge/tools-from-declarations.ts';
import {
  createDeadLetterWriter,
  createEventConsumer,
  createHubContext,
  type EventConsumer,
  type HubContext,
} from '../../platform/index.ts';
import { type HubEvent, newEnvelope } from '../../schemas/index.ts';
import { createLdapDirectory } from '../../security/index.ts';
import { createTopicsAndWait, testKafka } from '../support/kafka.ts';
import { useTestLdap } from '../support/ldap.ts';
import { uniqueName } from '../support/names.ts';
import { type BridgeFixture, postMcp, startBridgeFixture } from './fixture.ts';
import { roundTripDeclaration } from './roundtrip-declaration.ts';

/**
 * Tool calls through a real Kafka: the bridge publishes the command event, a real consumer (a
 * minimal CRM sink standing in for the connector) answers on the result topic, and the bridge
 * matches the result by correlation id.
 */

const names = {
  cmd: uniqueName('crm.contact.upsert.cmd'),
  res: uniqueName('crm.contact.upsert.res'),
  silentCmd: uniqueName('crm.account.upsert.cmd'),
  silentRes: uniqueName('crm.account.upsert.res'),
  cancel: uniqueName('mcp.tool.cancelled'),
  progress: uniqueName('media.job.progress'),
};

const declaration = roundTripDeclaration(names);

describe('MCP tool calls round-trip through a real Kafka', () => {
  let hub: HubContext;
  let hubEnv: NodeJS.ProcessEnv = {};
  const schemaLogTopic = uniqueName('schemas');
  let responder: EventConsumer;
  let fx: BridgeFixture;
  const routers: ReplyRouter[] = [];
  const commands: HubEvent<Record<string, unknown>>[] = [];
  const cancels: HubEvent<Record<string, unknown>>[] = [];
  let cancelReader: EventConsumer;

  /** Waits until no call waits (the waiting entry goes right after the cancel is published). */
  const settled = async (router: ReplyRouter | undefined) => {
    const deadline = Date.now() + 10_000;
    while ((router?.pending() ?? 0) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return router?.pending();
  };

  const cancelFor = async (externalIdOrTool: (c: HubEvent<Record<string, unknown>>) => boolean) => {
    const deadline = Date.now() + 20_000;
    while (!cancels.some(externalIdOrTool) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    return cancels.filter(externalIdOrTool);
  };

  const newRouter = async (timeoutMs: number) => {
    const router = createReplyRouter({
      kafka: hub.kafka,
      serde: hub.serde,
      producer: hub.producer,
      resultTopics: [names.res, names.silentRes],
      progressTopics: [names.progress],
      cancelTopic: names.cancel,
      timeoutMs,
    });
    routers.push(router);
    await router.start();
    return router;
  };

  beforeAll(async () => {
    const shared = testKafka({ clientId: uniqueName('mcp-bridge-test') });
    const env = { ...shared.env };
    delete env.SCHEMA_REGISTRY_URL;
    hubEnv = env;
    hub = await createHubContext({
      env,
      kafkaSettings: shared.settings,
      schemaLogTopic,
    });
    const admin = hub.kafka.admin();
    await admin.connect();
    await createTopicsAndWait(admin, {
      topics: Object.values(names).map((topic) => ({ topic, numPartitions: 3, replicationFactor: -1 })),
    });
    await admin.disconnect();

    responder = createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId: uniqueName('crm-sink'),
      topics: [names.cmd],
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      async handler(event) {
        const command = event as HubEvent<Record<string, unknown>>;
        commands.push(command);
        if (command.data.firstName === 'slow') {
          // A long job reports progress, correlated like its result.
          for (const [percent, stage] of [
            [25, 'fetch'],
            [75, 'write'],
          ] as const) {
            const progressEnvelope = newEnvelope({
              type: 'tributary.media.JobProgress',
              source: 'connector.crm-roundtrip',
              subject: String(command.data.externalId),
              actor: command.envelope.actor,
              correlationId: command.envelope.correlationId ?? null,
            });
            const progress = {
              requestId: command.envelope.id,
              command: 'crm.contact.upsert',
              stage,
              percent,
              message: null,
            };
            await hub.producer.publish(names.progress, [{ envelope: progressEnvelope, data: progress }]);
          }
          // Progress and result travel on different topics: give the progress a head start, as a slow job would.
          await new Promise((r) => setTimeout(r, 500));
        }
        const envelope = newEnvelope({
          type: 'tributary.crm.ContactUpsertResult',
          source: 'connector.crm-roundtrip',
          subject: String(command.data.externalId),
          actor: command.envelope.actor,
          correlationId: command.envelope.correlationId ?? null,
          causationId: command.envelope.id,
        });
        const data = {
          commandId: command.envelope.id,
          externalId: command.data.externalId,
          outcome: 'succeeded',
          httpStatus: 201,
          systemId: `sf-${String(command.data.externalId)}`,
          errorCode: null,
          message: `hello ${String(command.data.firstName)}`,
          answer: null,
        };
        await hub.producer.publish(names.res, [{ envelope, data }]);
      },
    });
    await responder.start();
    cancelReader = createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId: uniqueName('cancel-reader'),
      topics: [names.cancel],
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      handler: async (event) => void cancels.push(event as HubEvent<Record<string, unknown>>),
    });
    await cancelReader.start();
    const router = await newRouter(60_000);
    const tools: BridgeTool[] = toolsFromDeclarations([declaration], hub.catalog, router.runCommand);
    fx = await startBridgeFixture({ toolCallsPerWindow: 1000, loginAttemptsPerWindow: 1000 }, { tools });
  });

  afterAll(async () => {
    await fx?.close();
    for (const router of routers) await router.close();
    await responder?.close();
    await cancelReader?.close();
    await hub?.close();
  });

  it('returns the result event as structuredContent, with the verified user as actor and no token on the wire', async () => {
    const alice = await fx.loginOk('alice', 'alice-secret-1');
    const client = await fx.connect(alice.accessToken);
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === 'crm.contact.upsert')?.inputSchema.required).toContain('externalId');
    const result = await client.callTool({
      name: 'crm.contact.upsert',
      arguments: { externalId: 'ext-1', firstName: 'Ada' },
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      externalId: 'ext-1',
      outcome: 'succeeded',
      httpStatus: 201,
      systemId: 'sf-ext-1',
      message: 'hello Ada',
    });
    const command = commands.find((c) => c.data.externalId === 'ext-1');
    expect(command?.envelope.actor).toBe('alice');
    expect(command?.envelope.source).toBe('mcp-bridge');
    expect(JSON.stringify(command)).not.toContain(alice.accessToken);
    const audited = fx.actions.find(
      (a) => a.action === 'mcp.tool.call' && a.resource === 'crm.contact.upsert',
    );
    expect(audited?.correlationId).toBe(command?.envelope.correlationId);
  });

  it('lets nothing of a refused request reach Kafka', async () => {
    const alice = await fx.loginOk('alice', 'alice-secret-1');
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const [, payload] = alice.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const algNone = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    const call = (externalId: string, pad = '') =>
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'crm.contact.upsert', arguments: { externalId, firstName: pad || 'x' } },
      });
    expect((await postMcp(fx.resourceUrl, algNone, call('forged-1'))).status).toBe(401);
    expect((await postMcp(fx.resourceUrl, undefined, call('forged-2'))).status).toBe(401);
    expect(
      (await postMcp(fx.resourceUrl, alice.accessToken, call('forged-3', 'x'.repeat(2 * 1024 * 1024))))
        .status,
    ).toBe(413);
    expect(
      (await postMcp(fx.resourceUrl, alice.accessToken, `${call('forged-4').slice(0, -2)}`)).status,
    ).toBe(400);
    // A genuine call afterwards: once its result is back, anything sent before it would have been seen.
    const client = await fx.connect(alice.accessToken);
    await client.callTool({ name: 'crm.contact.upsert', arguments: { externalId: 'after-forged' } });
    expect(commands.filter((c) => String(c.data.externalId).startsWith('forged'))).toEqual([]);
  });

  it('turns progress events of the call into notifications/progress for a client that asked', async () => {
    const alice = await fx.loginOk('alice', 'alice-secret-1');
    const client = await fx.connect(alice.accessToken);
    const seen: { progress: number; total?: number; message?: string }[] = [];
    const result = await client.callTool(
      { name: 'crm.contact.upsert', arguments: { externalId: 'ext-slow', firstName: 'slow' } },
      undefined,
      { onprogress: (p) => void seen.push(p) },
    );
    expect(result.structuredContent).toMatchObject({ externalId: 'ext-slow', message: 'hello slow' });
    expect(seen).toEqual([
      { progress: 25, total: 100, message: 'fetch' },
      { progress: 75, total: 100, message: 'write' },
    ]);
  });

  it('runs a call as an MCP task when the client asks: status with progress, result from any instance', async () => {
    const alice = await fx.loginOk('alice', 'alice-secret-1');
    const client = await fx.connect(alice.accessToken);
    await client.listTools();
    const kinds: string[] = [];
    const statusMessages: string[] = [];
    let taskId = '';
    let final: Record<string, unknown> | undefined;
    for await (const message of client.experimental.tasks.callToolStream(
      { name: 'crm.contact.upsert', arguments: { externalId: 'ext-task', firstName: 'slow' } },
      undefined,
      { task: { ttl: 60_000 } },
    )) {
      kinds.push(message.type);
      if (message.type === 'taskCreated') taskId = message.task.taskId;
      if (message.type === 'taskStatus' && message.task.statusMessage)
        statusMessages.push(message.task.statusMessage);
      if (message.type === 'result') final = message.result.structuredContent as Record<string, unknown>;
      if (message.type === 'error') throw message.error;
    }
    expect(kinds[0]).toBe('taskCreated');
    expect(kinds.at(-1)).toBe('result');
    expect(final).toMatchObject({ externalId: 'ext-task', message: 'hello slow' });
    expect(statusMessages.every((m) => /^(fetch|write)/.test(m))).toBe(true);

    // Another instance answers for the same user, from Redis; another user does not see the task.
    const peerUrl = await fx.startPeer();
    const elsewhere = await fx.connect(alice.accessToken, peerUrl);
    // The processor's progress became the task's status message (the last one stays).
    expect(await elsewhere.experimental.tasks.getTask(taskId)).toMatchObject({
      status: 'completed',
      statusMessage: 'write (75%)',
    });
    const stranger = await fx.connect((await fx.loginOk('bob', 'bob-secret-2')).accessToken, peerUrl);
    await expect(stranger.experimental.tasks.getTask(taskId)).rejects.toThrow(/not found/i);
  });

  it('tasks/cancel stops a task and publishes a cancel event', async () => {
    const alice = await fx.loginOk('alice', 'alice-secret-1');
    const client = await fx.connect(alice.accessToken);
    await client.listTools();
    const before = cancels.length;
    const stream = client.experimental.tasks.callToolStream(
      { name: 'crm.account.upsert', arguments: { externalId: 'acc-task', name: 'T' } },
      undefined,
      { task: { ttl: 60_000 } },
    );
    const first = await stream.next();
    expect(first.value?.type).toBe('taskCreated');
    const taskId = first.value?.type === 'taskCreated' ? first.value.task.taskId : '';
    await stream.return(undefined);
    const peerUrl = await fx.startPeer();
    const elsewhere = await fx.connect(alice.accessToken, peerUrl);
    await elsewhere.experimental.tasks.cancelTask(taskId);
    expect((await client.experimental.tasks.getTask(taskId)).status).toBe('cancelled');
    const cancelled = await cancelFor(
      (c) =>
        cancels.indexOf(c) >= before &&
        c.data.tool === 'crm.account.upsert' &&
        c.data.reason === 'clientCancelled',
    );
    expect(cancelled.map((c) => c.envelope.actor)).toEqual(['alice']);
  });

  it('the SDK client over stdio calls a tool that round-trips through Kafka, as the operator', async () => {
    const env = Object.fromEntries(
      Object.entries({
        ...hubEnv,
        ROUNDTRIP_TOPICS: JSON.stringify(names),
        SCHEMA_LOG_TOPIC: schemaLogTopic,
      }).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(import.meta.dirname, 'stdio-kafka-server.ts')],
      env,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'stdio-agent', version: '1.0.0' });
    await client.connect(transport);
    try {
      const result = await client.callTool({
        name: 'crm.contact.upsert',
        arguments: { externalId: 'stdio-1', firstName: 'Pipe' },
      });
      expect(result.structuredContent).toMatchObject({ externalId: 'stdio-1', message: 'hello Pipe' });
      expect(commands.find((c) => c.data.externalId === 'stdio-1')?.envelope.actor).toBe('ops');
    } finally {
      await client.close();
    }
  });

  it('gives each of 200 concurrent calls its own result', async () => {
    const alice = await fx.loginOk('alice', 'alice-secret-1');
    const client = await fx.connect(alice.accessToken);
    const ids = Array.from({ length: 200 }, (_, i) => `bulk-${i}`);
    const results = await Promise.all(
      ids.map((id) =>
        client.callTool({ name: 'crm.contact.upsert', arguments: { externalId: id, firstName: id } }),
      ),
    );
    expect(results.map((r) => (r.structuredContent as { externalId: string }).externalId)).toEqual(ids);
    expect(results.map((r) => (r.structuredContent as { message: string }).message)).toEqual(
      ids.map((id) => `hello ${id}`),
    );
    expect(routers[0]?.pending()).toBe(0);
  }, 120_000);

  it('a result reaches the instance that waits for it when two bridges share the result topics', async () => {
    const peerRouter = await newRouter(10_000);
    const peerUrl = await fx.startPeer(
      toolsFromDeclarations([declaration], hub.catalog, peerRouter.runCommand),
    );
    const alice = await fx.loginOk('alice', 'alice-secret-1');
    const first = await fx.connect(alice.accessToken);
    const second = await fx.connect(alice.accessToken, peerUrl);
    const calls = Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? second : first).callTool({
        name: 'crm.contact.upsert',
        arguments: { externalId: `two-${i}` },
      }),
    );
    const results = await Promise.all(calls);
    expect(results.map((r) => (r.structuredContent as { externalId: string }).externalId)).toEqual(
      Array.from({ length: 20 }, (_, i) => `two-${i}`),
    );
  });

  it('times out a call nobody answers with a tool error, publishes a cancel event and keeps no waiting state', async () => {
    const impatient = await newRouter(1_500);
    const peerUrl = await fx.startPeer(
      toolsFromDeclarations([declaration], hub.catalog, impatient.runCommand),
    );
    const alice = await fx.loginOk('alice', 'alice-secret-1');
    const client = await fx.connect(alice.accessToken, peerUrl);
    const result = await client.callTool({
      name: 'crm.account.upsert',
      arguments: { externalId: 'acc-1', name: 'X' },
    });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('TOOL_TIMEOUT');
    expect(impatient.pending()).toBe(0);

    const mine = await cancelFor((c) => c.data.tool === 'crm.account.upsert' && c.data.reason === 'timeout');
    expect(mine.map((c) => ({ ...c.data }))).toEqual([
      expect.objectContaining({
        tool: 'crm.account.upsert',
        commandTopic: names.silentCmd,
        reason: 'timeout',
      }),
    ]);
    expect(mine[0]?.envelope.actor).toBe('alice');
  });

  it('notifications/cancelled from the SDK client aborts the call and publishes a cancel event', async () => {
    const alice = await fx.loginOk('alice', 'alice-secret-1');
    const client = await fx.connect(alice.accessToken);
    const before = cancels.length;
    const abort = new AbortController();
    const call = client.callTool(
      { name: 'crm.account.upsert', arguments: { externalId: 'acc-2', name: 'Y' } },
      undefined,
      { signal: abort.signal },
    );
    await new Promise((r) => setTimeout(r, 500));
    abort.abort('user pressed stop');
    await expect(call).rejects.toThrow();
    const mine = await cancelFor(
      (c) =>
        cancels.indexOf(c) >= before &&
        c.data.reason === 'clientCancelled' &&
        c.data.tool === 'crm.account.upsert',
    );
    expect(mine).toHaveLength(1);
    expect(mine[0]?.data).toMatchObject({ commandTopic: names.silentCmd });
    expect(mine[0]?.envelope.actor).toBe('alice');
    expect(await settled(routers[0])).toBe(0);
  });

  it('a cancel sent to another instance aborts the call where it runs, and only for the same session', async () => {
    const peerUrl = await fx.startPeer();
    const other = await fx.loginOk('alice', 'alice-secret-1');
    const owner = await fx.loginOk('alice', 'alice-secret-1');
    const before = cancels.length;
    const call = {
      jsonrpc: '2.0',
      id: 'call-77',
      method: 'tools/call',
      params: { name: 'crm.account.upsert', arguments: { externalId: 'acc-3', name: 'Z' } },
    };
    const cancel = (id: string) =>
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } });
    const running = postMcp(fx.resourceUrl, owner.accessToken, JSON.stringify(call));
    await new Promise((r) => setTimeout(r, 500));
    expect(routers[0]?.pending()).toBe(1);
    // Another session (even of the same user) naming the same request id cancels nothing.
    expect((await postMcp(peerUrl, other.accessToken, cancel('call-77'))).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    expect(routers[0]?.pending()).toBe(1);
    expect((await postMcp(peerUrl, owner.accessToken, cancel('call-77'))).status).toBe(202);
    expect(await (await running).text()).toContain('TOOL_CANCELLED');
    expect(await settled(routers[0])).toBe(0);
    const mine = await cancelFor((c) => cancels.indexOf(c) >= before && c.data.reason === 'clientCancelled');
    expect(mine.map((c) => c.envelope.actor)).toEqual(['alice']);
  });

  it('the assembled bridge component derives its tools from the declarations and serves them over HTTP', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'tributary-bridge-'));
    const ldap = await useTestLdap();
    const bridge = createMcpBridge(
      {
        port: 0,
        redisKeyPrefix: `${uniqueName('bridge')}:`,
        signingKeyFile: join(dir, 'key.pem'),
        usersFile: join(dir, 'users.json'),
      },
      {
        hub,
        declarations: [declaration],
        logger: silentLogger(),
        redis: fx.redis,
        directory: createLdapDirectory({ url: ldap.url }),
        emitAction: () => undefined,
      },
    );
    try {
      const { url, resourceUrl } = await bridge.start();
      const login = await fetch(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'bob', password: 'bob-secret-2' }),
      });
      const { accessToken } = (await login.json()) as { accessToken: string };
      const client = await fx.connect(accessToken, resourceUrl);
      // Default policy: analysts may list topics and call lookups and hub.whoami, not upserts.
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['hub.whoami', 'topics.list']);
      const me = await client.callTool({ name: 'hub.whoami', arguments: {} });
      expect(me.structuredContent).toMatchObject({ user: 'bob', roles: ['analyst'] });
      expect(bridge.tools().map((t) => t.name)).toEqual([
        'hub.whoami',
        'topics.list',
        'events.publish',
        'events.read',
        'crm.contact.upsert',
        'crm.account.upsert',
      ]);
      const listed = await client.callTool({ name: 'topics.list', arguments: { prefix: names.cmd } });
      expect(listed.structuredContent).toEqual({
        topics: [
          {
            name: names.cmd,
            partitions: 3,
            replication: expect.any(Number),
            cleanupPolicy: 'delete',
            retentionMs: expect.any(String),
          },
        ],
      });

      // events.publish (admins): checked against the schema and the topic's declared type.
      const adminLogin = await fetch(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'alice-secret-1' }),
      });
      const admin = await fx.connect(
        ((await adminLogin.json()) as { accessToken: string }).accessToken,
        resourceUrl,
      );
      const publish = (args: Record<string, unknown>) =>
        admin.callTool({ name: 'events.publish', arguments: args });
      const good = await publish({
        topic: names.cmd,
        type: 'tributary.crm.ContactUpsert',
        subject: 'pub-1',
        data: { externalId: 'pub-1', firstName: 'Published' },
      });
      expect(good.isError).toBeFalsy();
      expect(good.structuredContent).toMatchObject({ topic: names.cmd, offset: expect.any(String) });
      const bad = await publish({
        topic: names.cmd,
        type: 'tributary.crm.ContactUpsert',
        subject: 'x',
        data: { firstName: 1 },
      });
      expect(bad.isError).toBe(true);
      expect(JSON.stringify(bad.content)).toMatch(/EVENT_INVALID.*data\.(externalId|firstName)/);
      const wrongType = await publish({
        topic: names.cmd,
        type: 'tributary.crm.AccountUpsert',
        subject: 'x',
        data: {},
      });
      expect(JSON.stringify(wrongType.content)).toContain('EVENT_TYPE_MISMATCH');
      const deadline = Date.now() + 20_000;
      while (!commands.some((c) => c.data.externalId === 'pub-1') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(commands.find((c) => c.data.externalId === 'pub-1')?.envelope.actor).toBe('alice');

      // events.read: the newest events of the topic, decoded; the published one comes last.
      const read = await admin.callTool({ name: 'events.read', arguments: { topic: names.cmd, limit: 2 } });
      const { events } = read.structuredContent as {
        events: { type: string; event: { envelope: { actor: string }; data: { externalId: string } } }[];
      };
      expect(events).toHaveLength(2);
      expect(events[1]).toMatchObject({
        type: 'tributary.crm.ContactUpsert',
        event: { envelope: { actor: 'alice' }, data: { externalId: 'pub-1' } },
      });
      const unknown = await admin.callTool({
        name: 'events.read',
        arguments: { topic: 'no-such-topic-here' },
      });
      expect(JSON.stringify(unknown.content)).toContain('TOPIC_UNKNOWN');
    } finally {
      await bridge.close();
      await ldap.release();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
