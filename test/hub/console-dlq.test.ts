import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { type CrmServer, startCrmServer } from '../../demo/crm-server/server.ts';
import { type RunningHub, runHub } from '../../hub/run-hub.ts';
import { ACTIONS_TOPIC, createHubContext, type HubContext } from '../../platform/index.ts';
import { createTopics, readTopic } from '../platform/support.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { crmSection, eventually, launchChromium, shot, textOf, waitForText } from './console-browser.ts';

/**
 * The console's dead-letter browser in headless Chromium, on a hub whose CRM connector
 * dead-letters a command it cannot decode: the topic and its letter with the reason and origin,
 * the letter in full, redrive of that one letter (its bytes back on the source topic, audited as
 * the console) and of all the rest. The hub runs no audit, and the audit panel says so.
 */
const { env: kafkaEnv } = testKafka();
let home: string;
let hub: HubContext;
let crm: CrmServer;
let running: RunningHub | undefined;
let browser: Browser | undefined;
const prefix = `${uniqueName('console-dlq')}.`;
const commandTopic = `${prefix}crm.account.upsert.cmd`;
const dlqTopic = `${commandTopic}.dlq`;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'tributary-console-dlq-'));
  hub = await createHubContext({ env: kafkaEnv, logger: silentLogger() });
  crm = await startCrmServer();
  running = await runHub({
    env: { ...kafkaEnv, TRIBUTARY_HOME: home, TRIBUTARY_HTTP_PORT: '0' },
    only: ['connector.crm'],
    config: {
      heartbeatIntervalMs: 500,
      components: {
        'connector.crm': crmSection(crm, 1000),
      },
    },
    demo: false,
    topicPrefix: prefix,
    logger: silentLogger(),
  });
  browser = await launchChromium(join(home, 'chromium'));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await running?.close();
  await crm?.close();
  await hub?.close();
  await rm(home, { recursive: true, force: true });
});

/** The console's `dlq.redrive` actions on the hub's action topic. */
async function consoleRedrives() {
  const topic = prefix + ACTIONS_TOPIC;
  const records = await readTopic(hub.kafka, topic);
  const actions = await Promise.all(
    records.map(async (r) => {
      const decoded = await hub.serde.decode(r.value as Buffer, { topic, ...r });
      return (decoded.value as { data: { action: string; actor: string; details: Record<string, unknown> } })
        .data;
    }),
  );
  return actions.filter((a) => a.action === 'dlq.redrive');
}

describe('console dead-letter browser', () => {
  it('shows a dead letter, redrives it alone and then all of its topic', { timeout: 120_000 }, async () => {
    const page = await browser!.newPage();
    await page.setViewport({ width: 1200, height: 1400 });
    await page.goto(`${running!.endpoints.http}/`);
    await waitForText(page, '#audit', /the audit component does not run in this hub/);

    // A command the connector cannot decode is dead-lettered by it.
    const junk = Buffer.from('{"not":"avro"}');
    await hub.producer.publishRaw(commandTopic, [{ key: 'junk', value: junk }]);
    const dlqRow = `#dlq tr[data-topic="${dlqTopic}"]`;
    await waitForText(page, `${dlqRow} td.records`, /^1$/);
    await page.click(`${dlqRow} button.show`);
    const letter = '#dlq-records tr.letter[data-offset="0"]';
    const shown = await waitForText(page, letter, /decode/i);
    expect(shown).toContain(`${commandTopic}/0/0`);
    await page.click(`${letter} button.view`);
    const full = JSON.parse(await waitForText(page, '#dlq-letter', /"key": "junk"/));
    expect(full).toMatchObject({ topic: dlqTopic, key: 'junk', info: { originalTopic: commandTopic } });
    expect(full.decodeError).toBeTruthy();
    await shot(page, home, 'dead-letter');

    // Redrive this one: the same bytes go back to the source topic, where the message says.
    await page.click(`${letter} button.redrive-one`);
    const said = await waitForText(page, '#dlq-msg', /^redrove 1 of 1 records/);
    const at = new RegExp(`0/0 -> ${commandTopic.replace(/\./g, '\\.')} (\\d+)/(\\d+)`).exec(said);
    expect(at, said).not.toBeNull();
    const copy = (await readTopic(hub.kafka, commandTopic)).find(
      (r) => r.partition === Number(at![1]) && r.offset === at![2],
    );
    expect(copy?.key?.toString()).toBe('junk');
    expect(copy?.value?.equals(junk)).toBe(true);
    await waitForText(page, `${dlqRow} td.redriven`, /^1$/);
    expect(await consoleRedrives()).toEqual([
      expect.objectContaining({
        actor: 'console',
        details: expect.objectContaining({ dlqTopic, offset: '0' }),
      }),
    ]);

    // Still junk, the copy is dead-lettered again. Redriving one already sent is a no-op; "all"
    // sends only the new letter.
    await waitForText(page, `${dlqRow} td.records`, /^2$/);
    await page.click(`${dlqRow} button.show`);
    await waitForText(page, '#dlq-records tr.letter[data-offset="1"]', /decode/i);
    await page.click(`${letter} button.redrive-one`);
    await waitForText(page, '#dlq-msg', /^redrove 0 of 2 records .*\(1 already redriven\)$/);
    await page.click(`${dlqRow} button.redrive`);
    await waitForText(page, '#dlq-msg', /^redrove 1 of 2 records .*\(1 already redriven\): 0\/1 -> /);
    await shot(page, home, 'redriven');
    expect((await readTopic(hub.kafka, commandTopic)).length).toBe(3);
    await eventually('both redrives audited', async () =>
      (await consoleRedrives()).length === 2 ? true : undefined,
    );
    expect((await consoleRedrives()).map((a) => [a.actor, a.details.offset])).toEqual([
      ['console', '0'],
      ['console', '1'],
    ]);

    // A letter that is not there is named.
    const none = await fetch(`${running!.endpoints.http}/api/dlq/redrive`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topic: dlqTopic, partition: 0, offset: '99' }),
    });
    expect(none.status).toBe(404);
    expect((await none.json()).error).toBe(`no dead letter at partition 0 offset 99 of ${dlqTopic}`);
    expect(await textOf(page, '#dlq-msg')).not.toMatch(/no dead letter/);
    await page.close();
  });

  it("lists this hub's dead-letter topics, not those of other hubs on the same cluster", async () => {
    const foreign = `${uniqueName('other-hub')}.crm.account.upsert.cmd.dlq`;
    await createTopics(hub.kafka, [foreign]);
    const listed = (await (await fetch(`${running!.endpoints.http}/api/dlq`)).json()) as { topic: string }[];
    const topics = listed.map((t) => t.topic);
    expect(topics).toContain(dlqTopic);
    expect(topics).not.toContain(foreign);
    expect(topics.every((t) => t.startsWith(prefix))).toBe(true);
  });
});
