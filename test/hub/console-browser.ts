import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { expect } from 'vitest';
import { crmConnectorHttp } from '../../demo/crm-server/server.ts';

/** Headless Chromium for the console tests (CHROMIUM_PATH overrides the system one). */
export const launchChromium = (profileDir: string): Promise<Browser> =>
  puppeteer.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    userDataDir: profileDir,
  });

/** A full-page screenshot into `dir`, checked to be a non-empty PNG. */
export async function shot(page: Page, dir: string, name: string): Promise<void> {
  const file = join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  const png = await readFile(file);
  expect(png.length).toBeGreaterThan(1000);
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
}

export const textOf = (page: Page, selector: string): Promise<string> =>
  page.$eval(selector, (el) => el.textContent ?? '').catch(() => '');

/** Waits until the element's text matches (the page polls the hub); fails saying what it shows. */
export async function waitForText(
  page: Page,
  selector: string,
  want: RegExp,
  timeout = 30_000,
): Promise<string> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = await textOf(page, selector);
    if (want.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`${selector} never matched ${want}; it says "${text}"`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until `probe` answers something other than undefined. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeout = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The CRM connector's hub config section against a demo CRM (OAuth2 client credentials). */
export function crmSection(
  crm: { url: string; clientId: string; clientSecret: string },
  pollIntervalMs: number,
): Record<string, unknown> {
  return {
    pollIntervalMs,
    http: crmConnectorHttp(crm),
  };
}
