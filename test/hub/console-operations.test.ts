import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { type RunningHub, runHub } from '../../hub/run-hub.ts';
import { createHubAdmin } from '../../platform/admin.ts';
import { createHubContext, type HubContext } from '../../platform/index.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

/**
 * The console's operator panels in headless Chromium, clicked through on a running hub with the
 * CRM connector (against the demo CRM) and the audit: pause and resume the connector, browse a
 * dead letter and redrive it, see the audit chain verified and then, after a byte of a segment
 * was changed, broken. Screenshots of each step are checked to be PNGs.
 */
const { env: kafkaEnv } = testKafka();
let home: string;
let hub: HubContext;
let running: RunningHub | undefined;
let browser: Browser | undefined;
const prefix = `${uniqueName('console-ops')}.`;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'tributary-console-ops-'));
  hub = await createHubContext({ env: kafkaEnv, logger: silentLogger() });
  running = await runHub({
    env: { ...kafkaEnv, TRIBUTARY_HOME: home, TRIBUTARY_HTTP_PORT: '0' },
    only: ['audit', 'connector.crm'],
    config: { heartbeatIntervalMs: 500, components: { 'connector.crm': { pollIntervalMs: 500 } } },
    demo: true,
    topicPrefix: prefix,
    logger: silentLogger(),
  });
  browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    userDataDir: join(home, 'chromium'),
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await running?.close();
  await hub?.close();
  await rm(home, { recursive: true, force: true });
});

async function shot(page: Page, name: string): Promise<void> {
  const file = join(home, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect((await readFile(file)).subarray(1, 4).toString('latin1')).toBe('PNG');
}

const textOf = (page: Page, selector: string) =>
  page.$eval(selector, (el) => el.textContent ?? '').catch(() => '');

async function waitForText(page: Page, selector: string, want: RegExp, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = await textOf(page, selector);
    if (want.test(text)) return;
    if (Date.now() > deadline) throw new Error(`${selector} never matched ${want}; it says "${text}"`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('console operator panels', () => {
  it('pauses and resumes a connector, redrives a dead letter, and shows the audit verified then broken', {
    timeout: 150_000,
  }, async () => {
    const page = await browser!.newPage();
    await page.setViewport({ width: 1200, height: 1400 });
    await page.goto(`${running!.endpoints.http}/`);
    const row = 'tr[data-name="connector.crm"]';

    // Pause: the button sends the command over the control topic; the connector applies it.
    await waitForText(page, `${row} td.cstate`, /^running$/);
    await page.click(`${row} button.pause`);
    await waitForText(page, '#connectors-msg', /pause sent to connector\.crm/);
    await waitForText(page, `${row} td.cstate`, /^paused$/);
    const api = async (path: string) => (await fetch(`${running!.endpoints.http}${path}`)).json();
    expect(await api('/api/connectors')).toEqual([
      expect.objectContaining({ name: 'connector.crm', paused: true }),
    ]);
    await shot(page, 'paused');
    await page.click(`${row} button.resume`);
    await waitForText(page, `${row} td.cstate`, /^running$/);

    // A command the connector cannot decode is dead-lettered; the browser shows why, redrive sends it back.
    const commandTopic = `${prefix}crm.account.upsert.cmd`;
    const dlqTopic = `${commandTopic}.dlq`;
    await hub.producer.publishRaw(commandTopic, [{ key: 'junk', value: Buffer.from('{"not":"avro"}') }]);
    const dlqRow = `#dlq tr[data-topic="${dlqTopic}"]`;
    await waitForText(page, `${dlqRow} td.records`, /^1$/);
    await page.click(`${dlqRow} button.show`);
    await waitForText(page, '#dlq-records tr.letter', /decode/);
    expect(await textOf(page, '#dlq-records tr.letter')).toContain(commandTopic);
    await shot(page, 'dead-letters');
    await page.click(`${dlqRow} button.redrive`);
    await waitForText(page, '#dlq-msg', /redrove 1 of 1 records/);
    // Back on its source topic once: two records there, the original and the redriven copy.
    const admin = createHubAdmin(hub.kafka);
    await admin.start();
    const onSource = async () =>
      (await admin.endOffsets(commandTopic)).reduce((n, p) => n + Number(p.high), 0);
    expect(await onSource()).toBe(2);
    await waitForText(page, `${dlqRow} td.redriven`, /^1$/);
    // Still junk, the copy fails again: a new letter. Redriving again sends only that one
    // (each letter once), not the one already redriven.
    await waitForText(page, `${dlqRow} td.records`, /^2$/);
    await page.click(`${dlqRow} button.redrive`);
    await waitForText(page, '#dlq-msg', /redrove 1 of 2 records .*\(1 already redriven\)/);
    expect(await onSource()).toBe(3);
    await admin.close();

    // The audit recorded the console's actions; its chains verify. A changed byte breaks them.
    // Its entries arrive as the audit records them; verify until a chain holds some.
    const verifiedDeadline = Date.now() + 30_000;
    for (;;) {
      await page.click('#audit-verify');
      await waitForText(page, '#audit', /^verified: chain/);
      if (/chain \d+: [1-9]\d* entries/.test(await textOf(page, '#audit'))) break;
      if (Date.now() > verifiedDeadline) throw new Error(`no audit entries: ${await textOf(page, '#audit')}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await shot(page, 'audit-ok');
    const dir = running!.endpoints.auditDir!;
    // The first segment of a chain that has entries (partitions without actions have none).
    let file = '';
    for (const chain of (await readdir(dir)).filter((d) => d.startsWith('chain-'))) {
      const segment = (await readdir(join(dir, chain))).find((f) => f.startsWith('segment-'));
      if (segment) file = join(dir, chain, segment);
    }
    expect(file, JSON.stringify(await readdir(dir, { recursive: true }))).not.toBe('');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"seq":1,', '"seq":7,'));
    await page.click('#audit-verify');
    await waitForText(page, '#audit', /^BROKEN: chain/);
    await shot(page, 'audit-broken');
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
    const foreign = await post(
      '/api/connectors/control',
      { connector: 'connector.crm', command: 'pause' },
      { origin: 'https://evil.example' },
    );
    expect(foreign.status).toBe(403);
    expect((await foreign.json()).error).toMatch(/cross-origin/);
    const bad = await post('/api/connectors/control', { connector: 'connector.crm', command: 'stop' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/"command" must be one of pause, resume/);
    const unknown = await post('/api/connectors/control', { connector: 'connector.nope', command: 'pause' });
    expect(unknown.status).toBe(404);
    const form = await fetch(`${url}/api/dlq/redrive`, { method: 'POST', body: 'topic=x' });
    expect(form.status).toBe(415);
    const missing = await post('/api/dlq/redrive', { topic: `${prefix}no-such-topic` });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toMatch(/does not exist/);
  });
});
