import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { z } from 'zod';
import { HubError } from '../../core/errors.ts';

const require = createRequire(import.meta.url);

export const browserPoolSettingsSchema = z.object({
  executablePath: z
    .string()
    .default(() => process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')
    .describe('Chromium binary (CHROMIUM_PATH; Debian package chromium)'),
  maxPages: z.number().int().min(1).max(32).default(2).describe('Pages rendering at the same time'),
  launchTimeoutMs: z.number().int().positive().default(30_000).describe('Timeout to start Chromium in ms'),
});

export type BrowserPoolSettings = z.infer<typeof browserPoolSettingsSchema>;

/** Flags for a quiet, network-free headless Chromium. */
export const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * One warm Chromium shared by a bounded pool of pages, each preloaded with Chart.js from
 * node_modules (no network; every request a page tries is aborted). A browser that crashed or
 * was killed is noticed through its `disconnected` event and replaced on the next acquire.
 */
export function createBrowserPool(settings: Partial<BrowserPoolSettings> = {}) {
  const s = browserPoolSettingsSchema.parse(settings);
  let browser: Promise<{ browser: Browser; userDataDir: string }> | undefined;
  let idle: Page[] = [];
  let busy = 0;
  const waiters: (() => void)[] = [];
  let chartJs: Promise<string> | undefined;
  let closed = false;
  // The browser of the current launch; a `disconnected` event of an older one changes nothing.
  let current: Browser | undefined;

  const launch = async () => {
    const userDataDir = await mkdtemp(join(tmpdir(), 'tributary-chromium-'));
    try {
      const b = await puppeteer.launch({
        executablePath: s.executablePath,
        headless: true,
        args: chromiumFlags,
        userDataDir,
        timeout: s.launchTimeoutMs,
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
      b.once('disconnected', () => {
        // Pages of a dead browser are useless; forget them and launch afresh next time.
        idle = [];
        if (browser && current === b) browser = undefined;
        rm(userDataDir, { recursive: true, force: true }).catch(() => undefined);
      });
      current = b;
      return { browser: b, userDataDir };
    } catch (err) {
      await rm(userDataDir, { recursive: true, force: true });
      throw new HubError('CHART_BROWSER_FAILED', `Chromium could not start: ${String(err)}`, {
        cause: err,
        retriable: true,
        hint: `install Debian package chromium or set CHROMIUM_PATH (tried ${s.executablePath})`,
      });
    }
  };
  const getBrowser = async (): Promise<Browser> => {
    browser ??= launch();
    try {
      return (await browser).browser;
    } catch (err) {
      browser = undefined;
      throw err;
    }
  };

  const newPage = async (): Promise<Page> => {
    const b = await getBrowser();
    chartJs ??= readFile(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
    const page = await b.newPage();
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      if (request.url().startsWith('data:') || request.url() === 'about:blank') request.continue();
      else request.abort();
    });
    await page.setContent(
      '<!doctype html><html><body style="margin:0"><canvas id="chart"></canvas></body></html>',
    );
    await page.addScriptTag({ content: await chartJs });
    return page;
  };

  return {
    /** Runs `work` on a pooled page; waits while all pages are busy. */
    async withPage<T>(work: (page: Page) => Promise<T>): Promise<T> {
      if (closed) throw new HubError('CHART_POOL_CLOSED', 'the chart browser pool is closed');
      while (busy >= s.maxPages) await new Promise<void>((resolve) => waiters.push(resolve));
      busy += 1;
      let page: Page | undefined;
      let healthy = false;
      try {
        page = idle.pop();
        if (page?.isClosed() || (page && !page.browser().connected)) page = undefined;
        page ??= await newPage();
        const result = await work(page);
        healthy = true;
        return result;
      } catch (err) {
        // The browser died under this render: a retry gets a fresh one.
        if (page && !page.browser().connected) {
          throw new HubError('CHART_BROWSER_CRASHED', 'Chromium went away during the render', {
            cause: err,
            retriable: true,
          });
        }
        throw err;
      } finally {
        busy -= 1;
        if (page && healthy && !closed && page.browser().connected) idle.push(page);
        else if (page) page.close().catch(() => undefined);
        waiters.shift()?.();
      }
    },
    /** Process id of the current browser, if one runs (tests use it to kill the browser). */
    async browserPid(): Promise<number | undefined> {
      if (!browser) return undefined;
      return (await browser).browser.process()?.pid;
    },
    status() {
      return {
        busyPages: busy,
        idlePages: idle.length,
        maxPages: s.maxPages,
        browserRunning: browser !== undefined,
      };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const b = browser;
      browser = undefined;
      idle = [];
      if (b) {
        const { browser: running, userDataDir } = await b.catch(() => ({
          browser: undefined,
          userDataDir: '',
        }));
        await running?.close().catch(() => undefined);
        if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

export type BrowserPool = ReturnType<typeof createBrowserPool>;
