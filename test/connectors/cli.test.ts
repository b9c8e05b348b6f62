import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerConnectorsCommands } from '../../cli/commands/connectors.ts';
import {
  erpConnector,
  parseResetTarget,
  type RunningConnector,
  runConnectors,
} from '../../connectors/index.ts';
import { HubError, UsageError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { createHubContext, type HubContext } from '../../platform/index.ts';
import { createTopicsAndWait, testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'h8-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (env: NodeJS.ProcessEnv = process.env) => {
  let out = '';
  const program = new Command('tributary').exitOverride();
  registerConnectorsCommands(program, {
    env,
    write: (t) => {
      out += t;
    },
  });
  return { run: async (...args: string[]) => program.parseAsync(args, { from: 'user' }), output: () => out };
};

describe('tributary connectors', () => {
  it('lists every connector with its topics and commands', async () => {
    const c = cli();
    await c.run('connectors', 'list', '--json');
    const rows = JSON.parse(c.output()) as { name: string; commands: string[]; produces: string[] }[];
    expect(rows.map((r) => r.name)).toEqual(['connector.erp', 'connector.crm', 'connector.hr']);
    expect(rows[2]!.commands).toEqual(['hr.employee.upsert', 'hr.employee.deactivate', 'hr.employee.get']);
    expect(rows[0]!.produces).toContain('_tributary.source-offsets');
  });

  it('refuses an unknown connector as a usage error', async () => {
    await expect(
      cli().run('connectors', 'offsets', 'reset', 'sap', '--to', 'earliest'),
    ).rejects.toBeInstanceOf(UsageError);
  });

  it('parses reset targets', () => {
    expect(parseResetTarget('earliest')).toBeNull();
    expect(parseResetTarget('2026-03-01T10:00:00+01:00')).toEqual({
      stamp: '2026-03-01T09:00:00.000Z',
      key: '',
    });
    expect(parseResetTarget('{"stamp":"2026-01-01T00:00:00Z","key":"C-9"}')).toEqual({
      stamp: '2026-01-01T00:00:00Z',
      key: 'C-9',
    });
    expect(() => parseResetTarget('yesterday')).toThrow(UsageError);
  });

  it('resets offsets while stopped, lists them, and refuses while the connector runs', async () => {
    const tk = testKafka();
    const offsetsTopic = uniqueName('_tributary.source-offsets');
    const groupId = uniqueName('erp-sink');
    const configFile = join(dir, 'connectors.json');
    const topicPrefix = `${uniqueName('cli')}.`;
    await writeFile(
      configFile,
      JSON.stringify({
        erp: {
          http: { endpoints: { urls: ['http://127.0.0.1:9/erp'] }, retry: { retries: 0 } },
          offsetsTopic,
          groupId,
          topicPrefix,
          entities: ['customer'],
        },
      }),
    );
    const c = cli(tk.env);
    await c.run('connectors', 'offsets', 'reset', 'erp', '--to', '2026-02-01T00:00:00Z', '-c', configFile);
    await c.run('connectors', 'offsets', 'list', '-c', configFile);
    expect(c.output()).toContain('connector.erp/customer -> {"stamp":"2026-02-01T00:00:00.000Z","key":""}');
    expect(c.output()).toMatch(/connector\.erp\/customer\t\{"stamp":"2026-02-01T00:00:00.000Z","key":""\}/);
    await c.run('connectors', 'status', '-c', configFile);
    expect(c.output()).toContain(`connector.erp: sink group ${groupId}`);
    expect(c.output()).toContain('  customer: after 2026-02-01T00:00:00.000Z');

    // A running sink holds the consumer group: reset must refuse.
    const hub: HubContext = await createHubContext({
      env: tk.env,
      schemaLogTopic: uniqueName('_tributary.schemas'),
    });
    const admin = tk.kafka.admin();
    await admin.connect();
    await createTopicsAndWait(admin, {
      // Every command topic the sink consumes (changes and lookups).
      topics: (erpConnector.commands ?? []).map((c) => ({
        topic: `${topicPrefix}${c.topic}`,
        numPartitions: 1,
      })),
    });
    await admin.disconnect();
    const stop = new AbortController();
    let started: (cs: RunningConnector[]) => void = () => undefined;
    const up = new Promise<RunningConnector[]>((resolve) => {
      started = resolve;
    });
    const run = runConnectors(['erp'], {
      configFile,
      hub,
      logger: silentLogger(),
      signal: stop.signal,
      controlTopic: uniqueName('_tributary.control'),
      onStarted: started,
    });
    await up;
    const err = await cli(tk.env)
      .run('connectors', 'offsets', 'reset', 'erp', '--to', 'earliest', '-c', configFile)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('CONNECTOR_RUNNING');
    stop.abort();
    await run;
    await hub.close();
  }, 120_000);
});
