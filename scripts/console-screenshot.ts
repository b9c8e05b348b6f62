/**
 * Takes the README's picture of the console: runs the hub on its embedded defaults (every
 * component, the demo ERP/CRM/HR systems changing records, a local Kafka unless KAFKA_BROKERS
 * is set) in a scratch home, opens the console in headless Chromium, waits until the
 * throughput charts have moved, and saves a screenshot of the whole page.
 *
 *   bash scripts/with-node.sh scripts/console-screenshot.ts [out.png]   (default hub/console/console.png)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer from 'puppeteer-core';
import { silentLogger } from '../core/logger.ts';
import { runHub } from '../hub/run-hub.ts';

const out = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'hub', 'console', 'console.png'));
const home = await mkdtemp(join(tmpdir(), 'tributary-screenshot-'));
const hub = await runHub({
  env: { ...process.env, TRIBUTARY_HOME: home, TRIBUTARY_HTTP_PORT: '0' },
  logger: silentLogger(),
  onProgress: (line) => console.error(`hub: ${line}`),
});
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
  userDataDir: join(home, 'chromium'),
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 2200 });
  await page.goto(`${hub.endpoints.http}/?every=1000`);
  await page.waitForSelector('#topology svg', { timeout: 60_000 });
  // Moving charts: at least three components whose throughput line left its baseline.
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('.chart path.tp')].filter((p) => {
        const ys = (p.getAttribute('d') ?? '')
          .split(/[ML]/)
          .filter(Boolean)
          .map((pt) => Number(pt.trim().split(' ')[1]));
        return ys.length >= 2 && Math.min(...ys) < 78;
      }).length >= 3,
    { timeout: 180_000, polling: 1000 },
  );
  // Let the 60-point history fill most of the chart width.
  await new Promise((r) => setTimeout(r, 45_000));
  await page.screenshot({ path: out, fullPage: true });
  console.error(`console screenshot: ${out}`);
} finally {
  await browser.close();
  await hub.close();
  await rm(home, { recursive: true, force: true });
}
process.exit(0);
