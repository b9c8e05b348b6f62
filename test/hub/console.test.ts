import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANCHOR_TOPIC } from '../../audit/anchors.ts';
import { silentLogger } from '../../core/logger.ts';
import { type RunningHub, runHub } from '../../hub/run-hub.ts';
import {
  ACTIONS_TOPIC,
  createActionEmitter,
  createHubContext,
  type HubContext,
} from '../../platform/index.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

/** The console in headless Chromium (Debian package chromium): topology, live table and charts. */
const { env: kafkaEnv } = testKafka();
let home: string;
let hub: HubContext;
let running: RunningHub | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'tributary-console-'));
  hub = await createHubContext({ env: kafkaEnv, logger: silentLogger() });
});

afterAll(async () => {
  await browser?.close();
  await running?.close();
  await hub?.close();
  await rm(home, { recursive: true, force: true });
});

describe('hub console', () => {
  it('shows the topology, the components and charts that move as the audit records', async () => {
    const prefix = `${uniqueName('console')}.`;
    running = await runHub({
      env: { ...kafkaEnv, TRIBUTARY_HOME: home, TRIBUTARY_HTTP_PORT: '0' },
      only: ['audit'],
      config: {
        heartbeatIntervalMs: 500,
        components: {
          audit: {
            groupId: uniqueName('console-audit'),
            dir: join(home, 'audit'),
            anchorTopic: prefix + ANCHOR_TOPIC,
          },
        },
      },
      demo: false,
      topicPrefix: prefix,
      logger: silentLogger(),
    });
    browser = await puppeteer.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
      userDataDir: join(home, 'chromium'),
    });
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(`${running.endpoints.http}/?every=300`);

    // The topology picture is graphviz's SVG of the declarations.
    await page.waitForSelector('#topology svg');
    const topologyText = await page.$eval('#topology svg', (svg) => svg.textContent ?? '');
    expect(topologyText).toContain('audit');
    await page.waitForFunction(() => document.getElementById('ready')?.textContent === 'ready');
    await page.waitForSelector('tr[data-name="audit"] td.state');
    expect(await page.$eval('tr[data-name="audit"] td.state', (td) => td.textContent)).toBe('running');

    // Actions flow: the table counts them and the throughput line gets points.
    const emitter = createActionEmitter({
      producer: hub.producer,
      source: 'test',
      topic: prefix + ACTIONS_TOPIC,
    });
    for (let i = 0; i < 5; i++) {
      await emitter.emit({
        action: 'test.console',
        actor: 'tester',
        resource: `r-${i}`,
        outcome: 'succeeded',
      });
    }
    await page.waitForFunction(
      () => document.querySelector('tr[data-name="audit"] td.done')?.textContent === '5',
      { timeout: 30_000 },
    );
    // The throughput line rises above its baseline (y 78 in the chart's 80-high box): the chart moved.
    await page.waitForFunction(
      () => {
        const d = document.querySelector('.chart[data-name="audit"] path.tp')?.getAttribute('d') ?? '';
        const ys = d
          .split(/[ML]/)
          .filter(Boolean)
          .map((pt) => Number(pt.trim().split(' ')[1]));
        return ys.length >= 2 && Math.min(...ys) < 78;
      },
      { timeout: 30_000 },
    );

    const shot = join(home, 'console.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = await readFile(shot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});
