import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import { crmConfigSchema } from '../../connectors/crm/declaration.ts';
import { crmSinkCommands } from '../../connectors/crm/sink.ts';
import { crmConnector } from '../../connectors/index.ts';
import { createHttpClient } from '../../connectors/runtime/http-client.ts';
import type { SinkCommand } from '../../connectors/runtime/sink-loop.ts';
import { silentLogger } from '../../core/logger.ts';
import { type CrmServer, crmConnectorHttp, startCrmServer } from '../../demo/crm-server/server.ts';
import { createRedisKit } from '../../kit/redis.ts';
import { createMcpBridge, type McpBridge } from '../../mcp-bridge/component.ts';
import { type BridgeHttpServer, createBridgeHttpServer } from '../../mcp-bridge/server.ts';
import type { ToolOutcome } from '../../mcp-bridge/tools.ts';
import { toolsFromDeclarations } from '../../mcp-bridge/tools-from-declarations.ts';
import { createHubAdmin } from '../../platform/admin.ts';
import type { Component } from '../../platform/declaration.ts';
import {
  ACTIONS_TOPIC,
  createActionEmitter,
  createHubContext,
  type HubContext,
  kafkaConfigSchema,
} from '../../platform/index.ts';
import {
  createLocalUsersDirectory,
  createPolicy,
  defaultPolicy,
  generateSigningKeyPem,
  upsertLocalUser,
} from '../../security/index.ts';
import { applyTopology, planTopology, readActualTopics } from '../../topology/apply.ts';
import { buildHubTopology } from '../../topology/hub-topology.ts';

/**
 * What bench/mcp.ts measures, set up once: the demo CRM, a local Redis, the CRM topics under a
 * prefix of their own, the real CRM connector (sink only), the real bridge (createMcpBridge)
 * with a local user, and, for the references, the same CRM push called in-process and a second
 * bridge HTTP server whose tool runs that push directly (no command or result through Kafka).
 */

export const TOOL = 'crm.account.upsert';
const USER = 'bench';

export interface McpBench {
  brokers: string[];
  /** MCP endpoint of the real bridge (command -> Kafka -> connector -> result). */
  hubUrl: string;
  /** MCP endpoint of the bridge whose tool pushes to the CRM in-process. */
  directUrl: string;
  /** The CRM push the connector makes for the tool, called in-process. */
  push(data: Record<string, unknown>): Promise<void>;
  /** Logs in the benchmark user at the bridge; returns an access token. */
  login(baseUrl: string): Promise<string>;
  /** An MCP client over Streamable HTTP with the token (closed by close()). */
  client(mcpUrl: string, token: string): Promise<Client>;
  baseUrls: { hub: string; direct: string };
  close(): Promise<void>;
}

/** The tool's result as the connector's sink loop builds it (the tool's outputSchema). */
function resultOf(commandId: string, externalId: string, answer: Awaited<ReturnType<SinkCommand['push']>>) {
  return {
    commandId,
    externalId,
    outcome: 'succeeded',
    httpStatus: answer.status,
    systemId: answer.systemId ?? null,
    errorCode: null,
    message: null,
    answer: answer.answer === undefined ? null : JSON.stringify(answer.answer).slice(0, 4096),
  };
}

/** Starts everything on the given brokers; close() stops it and deletes the topics it created. */
export async function startMcpBench(brokers: string[]): Promise<McpBench> {
  const id = randomBytes(4).toString('hex');
  const prefix = `bench-mcp-${id}.`;
  const logger = silentLogger();
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch((err: unknown) => console.error(err));
  };
  try {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-mcp-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    const crm: CrmServer = await startCrmServer();
    closers.push(() => crm.close());
    const redisKit = createRedisKit();
    const { url: redisUrl } = await redisKit.start();
    closers.push(() => redisKit.stop());
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
    closers.push(async () => redis.disconnect());

    const settings = kafkaConfigSchema.parse({ brokers, clientId: `bench-mcp-${id}` });
    const hub: HubContext = await createHubContext({
      kafkaSettings: settings,
      schemaLogTopic: `${prefix}_tributary.schemas`,
      logger,
    });
    closers.push(() => hub.close());

    // The topics the CRM connector, the bridge and their audit use, as the hub's topology declares them.
    const wanted = (name: string) =>
      /^(crm\.|hub\.actions|mcp\.tool\.cancelled|_tributary\.source-offsets)/.test(name.slice(prefix.length));
    const full = buildHubTopology({ brokerCount: 1, prefix });
    const topology = { ...full, topics: full.topics.filter((t) => wanted(t.name)) };
    const admin = createHubAdmin(hub.kafka);
    await admin.start();
    closers.push(async () => {
      const names = (await admin.listTopicNames()).filter((n) => n.startsWith(prefix));
      await admin.deleteTopics(names);
      await admin.close();
    });
    await applyTopology(planTopology(topology, await readActualTopics(topology, admin)), admin, {
      prune: false,
    });

    const http = crmConnectorHttp(crm);
    const config = crmConfigSchema.parse({
      source: false,
      topicPrefix: prefix,
      offsetsTopic: `${prefix}_tributary.source-offsets`,
      groupId: `bench-mcp-crm-${id}`,
      http,
    });
    const connector = crmConnector.create(config, { logger, hub }) as Component;
    closers.push(() => connector.close());
    await connector.start();

    const usersFile = join(dir, 'users.json');
    await upsertLocalUser(usersFile, USER, `pw-${id}`, ['admins']);
    const limits = { toolCallsPerWindow: 10_000_000, loginAttemptsPerWindow: 1000 };
    const bridge: McpBridge = createMcpBridge(
      {
        port: 0,
        topicPrefix: prefix,
        redisKeyPrefix: `${prefix}hub:`,
        signingKeyFile: join(dir, 'key.pem'),
        usersFile,
        ...limits,
      },
      { hub, declarations: [crmConnector], logger, redis },
    );
    const hubBound = await bridge.start();
    closers.push(() => bridge.close());

    // The reference: the connector's own push for the tool, through its own HTTP client.
    const direct = createHttpClient(crmConfigSchema.parse({ http }).http, { logger });
    const command = crmSinkCommands(direct, { apiVersion: config.apiVersion, topic: (n) => n }).find(
      (c) => c.name === TOOL,
    );
    if (!command) throw new Error(`bench/mcp: the CRM connector has no ${TOOL} command`);
    const signal = new AbortController().signal;
    const emitter = createActionEmitter({
      producer: hub.producer,
      source: 'mcp-bridge',
      topic: prefix + ACTIONS_TOPIC,
    });
    const directTools = toolsFromDeclarations([crmConnector], hub.catalog, async (cmd, args, context) => {
      if (cmd.name !== TOOL) throw new Error(`bench/mcp: only ${TOOL} runs in-process`);
      const commandId = randomUUID();
      const answer = await command.push(args, { commandId, signal: context.signal });
      const outcome: ToolOutcome = {
        structuredContent: resultOf(commandId, String(args.externalId), answer),
      };
      return outcome;
    });
    const directServer: BridgeHttpServer = createBridgeHttpServer(
      { port: 0, redisKeyPrefix: `${prefix}direct:`, ...limits },
      {
        redis,
        directory: createLocalUsersDirectory(usersFile),
        policy: createPolicy(defaultPolicy),
        signingKey: generateSigningKeyPem(),
        tools: directTools,
        emitAction: (action) => emitter.emit(action),
        logger,
      },
    );
    const directBound = await directServer.start();
    closers.push(() => directServer.close());

    const clients: Client[] = [];
    closers.push(() => Promise.all(clients.map((c) => c.close().catch(() => undefined))));
    return {
      brokers,
      hubUrl: hubBound.resourceUrl,
      directUrl: directBound.resourceUrl,
      baseUrls: { hub: hubBound.url, direct: directBound.url },
      async push(data) {
        await command.push(data, { commandId: randomUUID(), signal });
      },
      async login(baseUrl) {
        const res = await fetch(`${baseUrl}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: USER, password: `pw-${id}` }),
        });
        if (res.status !== 200) throw new Error(`bench/mcp: login failed: ${res.status} ${await res.text()}`);
        return ((await res.json()) as { accessToken: string }).accessToken;
      },
      async client(mcpUrl, token) {
        const client = new Client({ name: 'bench-mcp', version: '1.0.0' });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(mcpUrl), {
            requestInit: { headers: { authorization: `Bearer ${token}` } },
          }),
        );
        clients.push(client);
        return client;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
