import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { type CrmServer, startCrmServer } from '../../demo/crm-server/server.ts';
import { type RunningHub, runHub } from '../../hub/run-hub.ts';
import { createHubAdmin, type HubAdmin } from '../../platform/admin.ts';
import {
  ACTIONS_TOPIC,
  createActionEmitter,
  createHubContext,
  type HubContext,
} from '../../platform/index.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { crmSection, eventually, launchChromium, shot, textOf, waitForText } from './console-browser.ts';

/**
 * The console's connector and audit panels in headless Chromium, on a running hub with the CRM
 * connector (against the demo CRM server) and the audit: pause a connector and see it paused and
 * syncing nothing, resume it and see the change arrive; see every audit chain verified, then,
 * after a byte of a segment was changed, that chain broken. Actions from elsewhere are refused.
 */
const { env: kafkaEnv } = testKafka();
let home: string;
let hub: HubContext;
let admin: HubAdmin;
let crm: CrmServer;
let running: RunningHub | undefined;
let browser: Browser | undefined;
const prefix = `${uniqueName('console-ops')}.`;
const changedTopic = `${prefix}crm.account.changed`;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'tributary-console-ops-'));
  hub = await createHubContext({ env: kafkaEnv, logger: silentLogger() });
  admin = createHubAdmin(hub.kafka);
  await admin.start();
  crm = await startCrmServer();
  running = await runHub({
    env: { ...kafkaEnv, TRIBUTARY_HOME: home, TRIBUTARY_HTTP_PORT: '0' },
    only: ['audit', 'connector.crm'],
    config: {
      heartbeatIntervalMs: 500,
      components: {
        'connector.crm': crmSection(crm, 300),
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
  await admin?.close();
  await hub?.close();
  await rm(home, { recursive: true, force: true });
});

/** Records on the connector's account change topic. */
const synced = async () =>
  (await admin.endOffsets(changedTopic).catch(() => [])).reduce((n, p) => n + Number(p.high), 0);

describe('console connector and audit panels', () => {
  it('pauses a connector (paused, no sync), then resumes it (the change arrives)', {
    timeout: 90_000,
  }, async () => {
    const page = await browser!.newPage();
    await page.setViewport({ width: 1200, height: 1400 });
    await page.goto(`${running!.endpoints.http}/`);
    const row = 'tr[data-name="connector.crm"]';
    await waitForText(page, `${row} td.cstate`, /^running$/);
    crm.put('Account', { Name: 'Before the pause' });
    const before = await eventually('the first change synced', async () =>
      (await synced()) > 0 ? synced() : undefined,
    );

    // The button sends the command over the control topic; the connector applies it.
    await page.click(`${row} button.pause`);
    await waitForText(page, '#connectors-msg', /pause sent to connector\.crm/);
    await waitForText(page, `${row} td.cstate`, /^paused$/);
    const api = async (path: string) => (await fetch(`${running!.endpoints.http}${path}`)).json();
    expect(await api('/api/connectors')).toEqual([
      expect.objectContaining({ name: 'connector.crm', paused: true }),
    ]);
    await shot(page, home, 'paused');

    // A change while paused is not synced: ten poll intervals later the topic has not grown.
    crm.put('Account', { Name: 'During the pause' });
    await new Promise((r) => setTimeout(r, 3000));
    expect(await synced()).toBe(before);
    expect(await textOf(page, `${row} td.cstate`)).toBe('paused');

    await page.click(`${row} button.resume`);
    await waitForText(page, '#connectors-msg', /resume sent to connector\.crm/);
    await waitForText(page, `${row} td.cstate`, /^running$/);
    await eventually('the change made during the pause synced', async () =>
      (await synced()) > before ? true : undefined,
    );
    await page.close();
  });

  it('shows every audit chain verified, and the one whose segment changed broken', {
    timeout: 90_000,
  }, async () => {
    const page = await browser!.newPage();
    await page.setViewport({ width: 1200, height: 1400 });
    await page.goto(`${running!.endpoints.http}/`);
    // Actions to record (the audit keeps one chain per partition of the action topic).
    const emitter = createActionEmitter({
      producer: hub.producer,
      source: 'test',
      topic: prefix + ACTIONS_TOPIC,
    });
    for (let i = 0; i < 6; i++)
      await emitter.emit({
        action: 'test.console',
        actor: 'tester',
        resource: `r-${i}`,
        outcome: 'succeeded',
      });
    await eventually('an audit chain with entries', async () => {
      await page.click('#audit-verify');
      await waitForText(page, '#audit', /^verified: all \d+ chains ok/);
      return /[1-9]\d* entries/.test(await textOf(page, '#audit-chains')) ? true : undefined;
    });
    const verdicts = await page.$$eval('#audit-chains tr[data-chain] td.verdict', (tds) =>
      tds.map((td) => td.textContent),
    );
    expect(verdicts.length).toBeGreaterThan(0);
    expect(verdicts.every((v) => v === 'ok')).toBe(true);
    await shot(page, home, 'audit-ok');

    const dir = running!.endpoints.auditDir!;
    let chain = '';
    let file = '';
    for (const d of (await readdir(dir)).filter((n) => n.startsWith('chain-'))) {
      const segment = (await readdir(join(dir, d))).find((f) => f.startsWith('segment-'));
      if (segment && (await readFile(join(dir, d, segment), 'utf8')).includes('"seq":1,')) {
        chain = d.slice('chain-'.length);
        file = join(dir, d, segment);
      }
    }
    expect(file, JSON.stringify(await readdir(dir, { recursive: true }))).not.toBe('');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"seq":1,', '"seq":7,'));
    await page.click('#audit-verify');
    await waitForText(page, '#audit', new RegExp(`^BROKEN: chain ${chain}\\b`));
    const broken = `#audit-chains tr[data-chain="${chain}"]`;
    expect(await textOf(page, `${broken} td.verdict`)).toBe('broken');
    expect(await textOf(page, broken)).toMatch(/seq \d+ \(.*segment-.* line \d+\)/);
    const others = await page.$$eval(
      `#audit-chains tr[data-chain]:not([data-chain="${chain}"]) td.verdict`,
      (tds) => tds.map((td) => td.textContent),
    );
    expect(others.every((v) => v === 'ok')).toBe(true);
    await shot(page, home, 'audit-broken');
    await page.close();
  });

  it('refuses actions from another origin and names a bad request', async () => {
    const url = running!.endpoints.http;
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const control = { connector: 'connector.crm', command: 'pause' };
    const foreign = await post('/api/connectors/control', control, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await foreign.json()).error).toMatch(/cross-origin request from https:\/\/evil\.example refused/);
    const crossSite = await post('/api/connectors/control', control, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const get = await fetch(`${url}/api/connectors/control`);
    expect(get.status).toBe(405);
    expect((await get.json()).error).toMatch(/takes POST with a JSON body, not GET/);
    const bad = await post('/api/connectors/control', { connector: 'connector.crm', command: 'stop' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/"command" must be one of pause, resume/);
    const unknown = await post('/api/connectors/control', { connector: 'connector.nope', command: 'pause' });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error).toMatch(/no connector named connector\.nope/);
    const form = await fetch(`${url}/api/dlq/redrive`, { method: 'POST', body: 'topic=x' });
    expect(form.status).toBe(415);
    const missing = await post('/api/dlq/redrive', { topic: `${prefix}no-such-topic` });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toMatch(/does not exist/);
    const offset = await post('/api/dlq/redrive', { topic: changedTopic, partition: 0, offset: 7 });
    expect(offset.status).toBe(400);
    expect((await offset.json()).error).toMatch(/"offset" must be an offset as a string of digits/);
    // Still running: none of the refused pauses reached it.
    expect(await (await fetch(`${url}/api/connectors`)).json()).toEqual([
      expect.objectContaining({ name: 'connector.crm', paused: false }),
    ]);
  });
});
