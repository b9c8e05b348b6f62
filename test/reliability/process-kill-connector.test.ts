import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { crmConnector } from '../../connectors/crm/declaration.ts';
import { type CrmServer, startCrmServer } from '../../demo/crm-server/server.ts';
import { createHubContext, type HubContext } from '../../platform/index.ts';
import { newEnvelope } from '../../schemas/index.ts';
import { type Collected, collectTopic, createDeclaredTopics } from '../connectors/support/topics.ts';
import { type CliProcess, startCli } from '../hub/cli-process.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { waitUntil } from './support.ts';
import { createTally } from './tally.ts';

/**
 * Process faults (issue 10): `tributary connectors run crm` runs as a child process against the
 * demo CRM, with upsert commands to push (sink) and accounts changing in the CRM (source). It is
 * killed with SIGKILL mid-batch, twice, and restarted. Every command must get its result (at
 * least once), the CRM must have applied each command exactly once (its idempotency keys absorb
 * the re-sends of the commands in flight at a kill), and every account's latest state must be on
 * the change topic (no source change lost).
 */

const tally = createTally(import.meta.filename);
afterAll(() => void tally.report());

const COMMANDS = 240;
const SEEDED = 150;

const prefix = `${uniqueName('rel-kill-crm')}.`;
let crm: CrmServer;
let hub: HubContext;
let dir: string;
const children: CliProcess[] = [];
const collected: Collected[] = [];

beforeAll(async () => {
  crm = await startCrmServer();
  hub = await createHubContext({ env: testKafka().env });
  dir = await mkdtemp(join(tmpdir(), 'tributary-rel-kill-crm-'));
});
afterAll(async () => {
  for (const c of children)
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  for (const c of collected) await c.stop();
  await hub?.close();
  await crm?.close();
  await rm(dir, { recursive: true, force: true });
});

const upsert = (i: number) => ({
  envelope: newEnvelope({
    type: 'tributary.crm.AccountUpsert',
    source: 'reliability',
    subject: `K-${i}`,
    actor: 'tester',
  }),
  data: {
    externalId: `K-${i}`,
    name: `Killed ${i}`,
    industry: 'Manufacturing',
    annualRevenue: '1000.00',
    billingCity: 'Lyon',
    billingCountry: 'FR',
    phone: null,
    website: null,
  },
});

describe('CRM connector process killed mid-batch', () => {
  it(`${COMMANDS} commands and ${SEEDED}+ changing accounts across two SIGKILLs: each command applied once, no change lost`, {
    timeout: 150_000,
  }, async () => {
    const offsetsTopic = `${prefix}_tributary.source-offsets`;
    await createDeclaredTopics(hub.kafka, crmConnector as never, prefix, offsetsTopic);
    for (let i = 0; i < SEEDED; i++)
      crm.put('Account', { Name: `Seeded ${i}`, ExtId__c: `S-${i}`, AnnualRevenue: 100 * i });
    const configFile = join(dir, 'connectors.yaml');
    await writeFile(
      configFile,
      stringifyYaml({
        crm: {
          topicPrefix: prefix,
          offsetsTopic,
          groupId: uniqueName('rel-kill-crm'),
          entities: ['account'],
          pollIntervalMs: 200,
          pageSize: 20,
          http: {
            endpoints: { urls: [crm.url] },
            auth: {
              type: 'oauth2-client-credentials',
              tokenUrl: `${crm.url}/services/oauth2/token`,
              clientId: crm.clientId,
              clientSecret: { env: 'CRM_CLIENT_SECRET' },
            },
          },
        },
      }),
    );
    // Slow writes and queries, so a kill lands while a batch is in flight.
    crm.faults.inject({ kind: 'slow', delayMs: 15 }, 1_000_000);

    const results = await collectTopic(
      hub.kafka,
      hub.serde,
      `${prefix}crm.account.upsert.res`,
      uniqueName('rel-res'),
    );
    const changes = await collectTopic(
      hub.kafka,
      hub.serde,
      `${prefix}crm.account.changed`,
      uniqueName('rel-chg'),
    );
    collected.push(results, changes);
    const commands = Array.from({ length: COMMANDS }, (_, i) => upsert(i));
    for (let i = 0; i < COMMANDS; i += 60)
      await hub.producer.publish(`${prefix}crm.account.upsert.cmd`, commands.slice(i, i + 60));
    const answered = () =>
      new Set(
        results.events.filter((e) => e.data.outcome === 'succeeded').map((e) => String(e.data.commandId)),
      ).size;

    const env = {
      ...process.env,
      ...testKafka().env,
      TRIBUTARY_HOME: dir,
      TRIBUTARY_TOPIC_PREFIX: prefix,
      TRIBUTARY_LOG_LEVEL: 'warn',
      CRM_CLIENT_SECRET: crm.clientSecret,
    };
    // Accounts keep changing in the CRM while the connector dies and comes back.
    let edits = 0;
    const editing = setInterval(() => {
      const i = edits++ % SEEDED;
      const row = [...(crm.records.get('Account')?.values() ?? [])].find((r) => r.ExtId__c === `S-${i}`);
      if (row) crm.put('Account', { AnnualRevenue: 100 * i + edits }, row.Id);
    }, 40);

    let kills = 0;
    const atKill: number[] = [];
    try {
      for (const killAt of [COMMANDS / 4, COMMANDS / 2]) {
        const run = startCli(['connectors', 'run', 'crm', '-c', configFile], env);
        children.push(run);
        await waitUntil(
          () => `${killAt} results (${answered()}) ${run.stderr().slice(-1500)}`,
          () => answered() >= killAt,
          60_000,
        );
        run.proc.kill('SIGKILL');
        await run.exited();
        atKill.push(answered());
        kills++;
      }
      const last = startCli(['connectors', 'run', 'crm', '-c', configFile], env);
      children.push(last);
      await waitUntil(
        () => `all results (${answered()}) ${last.stderr().slice(-1500)}`,
        () => answered() >= COMMANDS,
        90_000,
      );
      clearInterval(editing);
      // The last edits reach the topic: every account's latest stamp is there.
      const accounts = () => [...(crm.records.get('Account')?.values() ?? [])];
      const onTopic = () => {
        const seen = new Set(changes.events.map((e) => `${e.data.accountId}@${Number(e.data.modifiedAt)}`));
        return accounts().filter((a) => !seen.has(`${a.Id}@${Date.parse(a.SystemModstamp)}`));
      };
      await waitUntil(
        () => `latest changes (${onTopic().length} missing)`,
        () => onTopic().length === 0,
        60_000,
      );
      last.proc.kill('SIGTERM');
      expect(await last.exited(), last.stderr().slice(-2000)).toBe(0);

      // Each kill landed mid-batch: commands were still unanswered.
      expect(atKill[0]).toBeLessThan(COMMANDS);
      const missing = commands.filter(
        (c) =>
          !results.events.some((e) => e.data.commandId === c.envelope.id && e.data.outcome === 'succeeded'),
      );
      // Applied once: one account per external id, changed exactly once by its command.
      const applied = commands.map((c) => {
        const rows = accounts().filter((a) => a.ExtId__c === c.data.externalId);
        return rows.length === 1 ? (crm.changes.get(`Account:${rows[0]?.Id}`) ?? 0) : rows.length * 1000;
      });
      const twice = applied.filter((n) => n !== 1).length;
      const resent = crm.writes.count - COMMANDS;
      const lostChanges = onTopic().length;
      tally.add(
        {
          faultsInjected: kills,
          eventsChecked: COMMANDS + accounts().length,
          eventsLost: missing.length + lostChanges,
        },
        `CRM connector process: ${COMMANDS} commands and ${accounts().length} accounts (${edits} edits while it ran), ${kills} SIGKILLs mid-batch at ${atKill.join(' and ')} answered; ${resent} write(s) re-sent after a kill, replayed by idempotency key; ${twice} applied twice; ${results.events.length - COMMANDS} duplicate result(s)`,
      );
      expect(missing).toEqual([]);
      expect(twice).toBe(0);
      expect(lostChanges).toBe(0);
    } finally {
      clearInterval(editing);
    }
  });
});
