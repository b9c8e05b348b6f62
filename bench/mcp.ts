import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { benchBroker } from './support/broker.ts';
import { type CallerLoad, concurrentCalls } from './support/callers.ts';
import { startMcpBench, TOOL } from './support/mcp-hub.ts';
import { type BenchResult, type Comparison, type Figure, isEntryPoint, runAsMain } from './support/report.ts';
import { smokeRun } from './support/stats.ts';

/**
 * MCP round trip: an agent's tool call (the SDK client over Streamable HTTP, with a bearer token)
 * -> the bridge publishes the command event -> the CRM connector's sink pushes it to the demo CRM
 * -> result event -> the bridge answers the call. p50/p99 and calls/s at 1, 10 and 100 closed-loop
 * callers, against the same CRM push called in-process (the reference) and, to split the cost,
 * the same tool on a bridge whose tool makes that push itself (MCP and auth, no Kafka round trip).
 */

const LEVELS = [1, 10, 100] as const;
type Mode = 'hub' | 'mcp' | 'direct';
const MODE_LABEL: Record<Mode, string> = {
  hub: 'hub (MCP -> Kafka -> connector -> Kafka -> MCP)',
  mcp: 'MCP bridge, push in-process (no Kafka round trip)',
  direct: 'in-process push (reference)',
};

/** One tool call through an MCP client; throws unless the CRM said it succeeded. */
async function callTool(client: Client, externalId: string): Promise<void> {
  const result = await client.callTool({
    name: TOOL,
    arguments: { externalId, name: `Bench account ${externalId}`, industry: 'Retail' },
  });
  const outcome = (result.structuredContent as { outcome?: string } | undefined)?.outcome;
  if (result.isError || outcome !== 'succeeded')
    throw new Error(`tool call ${externalId} answered ${JSON.stringify(result).slice(0, 300)}`);
}

/** Runs the benchmark on a dedicated broker (or KAFKA_BROKERS). */
export async function benchMcp(): Promise<BenchResult> {
  const started = performance.now();
  const smoke = smokeRun();
  const durationMs = smoke ? 300 : 5_000;
  const warmMs = smoke ? 200 : 2_000;
  const broker = await benchBroker();
  const bench = await startMcpBench(broker.brokers).catch(async (err: unknown) => {
    await broker.stop();
    throw err;
  });
  try {
    const maxCallers = Math.max(...LEVELS);
    const hubToken = await bench.login(bench.baseUrls.hub);
    const mcpToken = await bench.login(bench.baseUrls.direct);
    const hubClients: Client[] = [];
    const mcpClients: Client[] = [];
    for (let i = 0; i < maxCallers; i += 1) {
      hubClients.push(await bench.client(bench.hubUrl, hubToken));
      mcpClients.push(await bench.client(bench.directUrl, mcpToken));
    }
    const run = (mode: Mode, callers: number, ms: number, tag: string) =>
      concurrentCalls(callers, ms, (caller, n) => {
        const externalId = `${tag}-${mode}-${callers}-${caller}-${n}`;
        if (mode === 'direct')
          return bench.push({ externalId, name: `Bench account ${externalId}`, industry: 'Retail' });
        return callTool((mode === 'hub' ? hubClients : mcpClients)[caller]!, externalId);
      });

    // Warm-up: JIT, connection pools, OAuth tokens, consumer fetch sessions.
    for (const mode of ['direct', 'mcp', 'hub'] as const) await run(mode, 10, warmMs, 'warm');

    const loads = new Map<string, CallerLoad>();
    for (const callers of LEVELS) {
      for (const mode of ['direct', 'mcp', 'hub'] as const) {
        const load = await run(mode, callers, durationMs, 'run');
        loads.set(`${mode}/${callers}`, load);
        console.error(
          `  ${mode} x${callers}: ${load.callsPerSecond.toFixed(1)} calls/s, p50 ${load.p50Ms.toFixed(1)} ms, p99 ${load.p99Ms.toFixed(1)} ms, ${load.errors} errors`,
        );
      }
    }
    const get = (mode: Mode, callers: number) => loads.get(`${mode}/${callers}`)!;

    const figures: Figure[] = [];
    const notes: string[] = [];
    for (const callers of LEVELS) {
      for (const mode of ['hub', 'mcp', 'direct'] as const) {
        const l = get(mode, callers);
        const who = `${MODE_LABEL[mode]}, ${callers} caller${callers > 1 ? 's' : ''}`;
        figures.push(
          { label: `${who}: calls/s`, value: l.callsPerSecond, unit: 'calls/s' },
          { label: `${who}: p50`, value: l.p50Ms, unit: 'ms' },
          { label: `${who}: p99`, value: l.p99Ms, unit: 'ms' },
        );
        if (l.errors > 0)
          notes.push(`${who}: ${l.errors} failed call(s) (not counted); first: ${l.firstError}`);
      }
    }
    const comparisons: Comparison[] = LEVELS.flatMap((callers) => {
      const hub = get('hub', callers);
      const direct = get('direct', callers);
      const mcp = get('mcp', callers);
      return [
        {
          label: `calls/s at ${callers} caller(s), hub / in-process push`,
          ratio: hub.callsPerSecond / direct.callsPerSecond,
          headline: callers !== 10,
        },
        {
          label: `latency p50 at ${callers} caller(s), hub / in-process push`,
          ratio: hub.p50Ms / direct.p50Ms,
          cost: true,
          headline: callers === 1,
        },
        {
          label: `latency p99 at ${callers} caller(s), hub / in-process push`,
          ratio: hub.p99Ms / direct.p99Ms,
          cost: true,
        },
        {
          label: `calls/s at ${callers} caller(s), hub / MCP bridge with the push in-process (the Kafka round trip's share)`,
          ratio: hub.callsPerSecond / mcp.callsPerSecond,
        },
      ];
    });
    return {
      name: 'mcp',
      title: 'MCP round trip: tool call -> command -> connector -> result -> response',
      setup: {
        brokers: `${broker.brokers.length} (${broker.origin})`,
        tool: `${TOOL} (the CRM connector upserts the account by external id in the demo CRM; a new account per call)`,
        'MCP client':
          '@modelcontextprotocol/sdk Client over Streamable HTTP, one client (MCP session) per caller, bearer token from /auth/login (local users file)',
        bridge:
          'createMcpBridge (JWT check, policy, rate limit in a local Redis, audit action to hub.actions per call), reply router following the result topics',
        connector:
          'the real CRM connector (sink only: platform consumer, one command at a time, result event, audit action), its topics as the hub topology declares them (3 partitions, acks=all)',
        callers: `${LEVELS.join(', ')} closed-loop callers (each calls again as soon as it has its answer), ${durationMs / 1000} s per level and mode after a ${warmMs / 1000} s warm-up`,
        reference: `the CRM push of the connector (${TOOL}) called in-process by the same callers: HTTP to the demo CRM, no MCP, no Kafka`,
        processes:
          'the callers, both bridges, the connector and the demo CRM share one Node process (Redis and Kafka run apart), so at 10 and 100 callers the clients take part of the same thread the bridge uses, for every line alike',
        'middle line':
          'a second bridge HTTP server (same security and audit) whose tool makes that push itself: MCP without the command/result round trip through Kafka',
      },
      figures,
      comparisons,
      notes,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await bench.close();
    await broker.stop();
  }
}

if (isEntryPoint(import.meta)) await runAsMain(benchMcp);
