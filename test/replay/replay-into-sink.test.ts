import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crmConnector } from '../../connectors/crm/declaration.ts';
import type { RunningConnector } from '../../connectors/runtime/connector.ts';
import { HubError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { type CrmServer, crmConnectorHttp, startCrmServer } from '../../demo/crm-server/server.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { createHubContext, EventHeaders, type HubContext, headerText } from '../../platform/index.ts';
import { newEnvelope } from '../../schemas/index.ts';
import {
  createTopicCheckpointStore,
  ReplayHeaders,
  replayInto,
  resetGroupOffsets,
} from '../../topology/replay/index.ts';
import { type Collected, collectTopic, createDeclaredTopics } from '../connectors/support/topics.ts';
import { type TestKafka, testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { readTopic } from './support.ts';

/**
 * Issue 7: every consumer is idempotent by event id, so replaying a day of commands into a
 * connector sink (by a group reset, and by re-publishing the range into the command topic)
 * makes the sink push every command again, and the target system applies none of them twice.
 */
const commands = 200;
const accounts = 50;
const dayMs = 24 * 60 * 60 * 1000;

let tk: TestKafka;
let hub: HubContext;
let crm: CrmServer;
const running: RunningConnector[] = [];
const open: Collected[] = [];

beforeAll(async () => {
  tk = testKafka();
  crm = await startCrmServer();
  hub = await createHubContext({ env: tk.env, schemaLogTopic: uniqueName('_tributary.schemas') });
});

afterAll(async () => {
  await Promise.allSettled(running.map((c) => c.close()));
  await Promise.allSettled(open.map((c) => c.stop()));
  await hub?.close();
  await crm?.close();
});

const waitUntil = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('replaying a day of commands into the CRM sink', { timeout: 60_000 }, () => {
  it('pushes every replayed command again and the CRM applies none of them twice', async () => {
    const prefix = `${uniqueName('crm')}.`;
    const offsetsTopic = uniqueName('_tributary.source-offsets');
    await createDeclaredTopics(
      tk.kafka,
      crmConnector as unknown as ComponentDeclaration<unknown>,
      prefix,
      offsetsTopic,
    );
    const commandTopic = `${prefix}crm.account.upsert.cmd`;
    const groupId = uniqueName('sink');
    const raw = {
      http: {
        ...crmConnectorHttp(crm),
        retry: { retries: 5, initialDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 5_000 },
      },
      apiVersion: crm.apiVersion,
      entities: ['account'],
      topicPrefix: prefix,
      offsetsTopic,
      groupId,
      source: false,
    };
    const startConnector = async (overrides: Record<string, unknown> = {}) => {
      const c = crmConnector.create(crmConnector.config.parse({ ...raw, ...overrides }), {
        logger: silentLogger(),
        hub,
      }) as RunningConnector;
      running.push(c);
      await c.start();
      return c;
    };
    const results = await collectTopic(
      tk.kafka,
      hub.serde,
      `${prefix}crm.account.upsert.res`,
      uniqueName('collect'),
    );
    open.push(results);
    const resultsFor = (id: string) => results.events.filter((e) => e.data.commandId === id);

    // A day of upserts: 200 commands over 50 accounts, envelope times spread over yesterday,
    // each command its own event id; the last command of an account decides its final state.
    const tag = uniqueName('day');
    const extIds = Array.from({ length: accounts }, (_, i) => `${tag}-${i}`);
    const dayStart = Date.now() - dayMs;
    const day = Array.from({ length: commands }, (_, i) => {
      const ext = extIds[i % accounts]!;
      const envelope = newEnvelope({
        type: 'tributary.crm.AccountUpsert',
        source: 'test',
        subject: ext,
        actor: 'test-user',
        time: dayStart + Math.floor((i * dayMs) / commands),
      });
      return {
        envelope,
        data: {
          externalId: ext,
          name: `Account ${ext}`,
          industry: i % 2 === 0 ? 'Retail' : 'Manufacturing',
          annualRevenue: `${1000 + i}.50`,
          billingCity: 'Lyon',
          billingCountry: 'FR',
          phone: null,
          website: null,
        },
      };
    });
    const ids = day.map((c) => c.envelope.id);
    expect(new Set(ids).size).toBe(commands);

    const ours = () =>
      [...crm.records.get('Account')!.values()].filter((r) => extIds.includes(String(r.ExtId__c)));
    const changeCount = () => ours().reduce((n, r) => n + (crm.changes.get(`Account:${r.Id}`) ?? 0), 0);
    const state = () =>
      new Map(ours().map((r) => [String(r.ExtId__c), structuredClone(r) as Record<string, unknown>]));
    const committedLag = async () => {
      const admin = tk.kafka.admin();
      await admin.connect();
      try {
        const ends = await admin.fetchTopicOffsets(commandTopic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [commandTopic] });
        return ends.reduce((lag, e) => {
          const at = committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
          return lag + Number(BigInt(e.high) - (BigInt(at) < 0n ? 0n : BigInt(at)));
        }, 0);
      } finally {
        await admin.disconnect();
      }
    };

    const firstRun = await startConnector();
    const publishedAt = Date.now();
    await hub.producer.publish(commandTopic, day);
    await waitUntil('every command of the day succeeds', () =>
      ids.every((id) => resultsFor(id).some((e) => e.data.outcome === 'succeeded')),
    );
    await waitUntil('the sink commits the whole day', async () => (await committedLag()) === 0);
    // One applied change per command, and the last command of each account wins.
    const changes = changeCount();
    expect(changes).toBe(commands);
    const snapshot = state();
    expect(snapshot.size).toBe(accounts);
    for (const [ext, rec] of snapshot) {
      const last = day.filter((c) => c.data.externalId === ext).at(-1)!;
      expect(rec.AnnualRevenue).toBe(Number(last.data.annualRevenue));
      expect(rec.Industry).toBe(last.data.industry);
    }
    const writesBefore = crm.writes.count;
    await firstRun.close();

    // (a) Reset the sink's group to the start of the day and run the connector again.
    await waitUntil('the group can be reset (it has no members left)', async () => {
      try {
        const reset = await resetGroupOffsets({
          kafka: tk.kafka,
          groupId,
          topic: commandTopic,
          to: { kind: 'time', timeMs: publishedAt },
          actor: 'test-user',
        });
        return reset.applied;
      } catch (err) {
        if (err instanceof HubError && err.code === 'REPLAY_GROUP_ACTIVE') return false;
        throw err;
      }
    });
    expect(await committedLag()).toBe(commands);
    const secondRun = await startConnector();
    await waitUntil('every command is pushed and answered a second time', () =>
      ids.every((id) => resultsFor(id).length >= 2),
    );
    await waitUntil('the sink commits the replayed day', async () => (await committedLag()) === 0);
    // The sink really pushed again (the CRM saw the writes), yet applied nothing.
    expect(crm.writes.count - writesBefore).toBeGreaterThanOrEqual(commands);
    expect(changeCount()).toBe(changes);
    expect(state()).toEqual(snapshot);
    expect(ids.every((id) => resultsFor(id).every((e) => e.data.outcome === 'succeeded'))).toBe(true);
    await secondRun.close();

    // (b) Replay the day into the command topic of a second deployment (as after a failover):
    // a copy with replay headers and the same event ids, read by a fresh sink with its own group.
    const prefix2 = `${uniqueName('crm')}.`;
    await createDeclaredTopics(
      tk.kafka,
      crmConnector as unknown as ComponentDeclaration<unknown>,
      prefix2,
      uniqueName('_tributary.source-offsets'),
    );
    const commandTopic2 = `${prefix2}crm.account.upsert.cmd`;
    const replay = await replayInto({
      hub,
      checkpoints: createTopicCheckpointStore({
        kafka: tk.kafka,
        producer: hub.producer,
        topic: uniqueName('_tributary.replays'),
      }),
      topic: commandTopic,
      into: commandTopic2,
      from: { kind: 'time', timeMs: publishedAt },
      actor: 'test-user',
    });
    expect(replay.written).toBe(commands);
    const copies = await readTopic(tk.kafka, commandTopic2);
    expect(copies).toHaveLength(commands);
    expect(copies.every((r) => headerText(r.headers, ReplayHeaders.originalTopic) === commandTopic)).toBe(
      true,
    );
    expect(new Set(copies.map((r) => headerText(r.headers, EventHeaders.eventId)))).toEqual(new Set(ids));
    const results2 = await collectTopic(
      tk.kafka,
      hub.serde,
      `${prefix2}crm.account.upsert.res`,
      uniqueName('collect'),
    );
    open.push(results2);
    const writesBeforeCopy = crm.writes.count;
    const thirdRun = await startConnector({ topicPrefix: prefix2, groupId: uniqueName('sink') });
    await waitUntil('every replayed copy is pushed and answered', () =>
      ids.every((id) =>
        results2.events.some((e) => e.data.commandId === id && e.data.outcome === 'succeeded'),
      ),
    );
    expect(crm.writes.count - writesBeforeCopy).toBeGreaterThanOrEqual(commands);
    expect(changeCount()).toBe(changes);
    expect(state()).toEqual(snapshot);
    await thirdRun.close();
  });
});
