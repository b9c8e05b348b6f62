import { HubError } from '../../core/errors.ts';
import type { BrowserPool } from './browser-pool.ts';
import { type ChartSpec, toChartJsConfig } from './chart-spec.ts';

export interface RenderedChart {
  png: Buffer;
  width: number;
  height: number;
}

/** Draws a chart with Chart.js on a pooled page and returns the canvas as PNG of exactly width x height. */
export async function renderChart(spec: ChartSpec, pool: BrowserPool, options: { timeoutMs?: number } = {}) {
  const config = toChartJsConfig(spec);
  const width = spec.width ?? 800;
  const height = spec.height ?? 600;
  const background = spec.background ?? '#ffffff';
  return pool.withPage(async (page): Promise<RenderedChart> => {
    page.setDefaultTimeout(options.timeoutMs ?? 30_000);
    await page.setViewport({ width, height, deviceScaleFactor: 1 });
    const dataUrl = await page.evaluate(
      (cfg, w, h, bg) => {
        const g = globalThis as unknown as {
          Chart: new (ctx: unknown, cfg: unknown) => { destroy(): void; toBase64Image(): string };
          current?: { destroy(): void };
          document: {
            getElementById(id: string): { width: number; height: number; style: Record<string, string> };
          };
        };
        g.current?.destroy();
        const canvas = g.document.getElementById('chart');
        canvas.width = w;
        canvas.height = h;
        canvas.style.width = `${w}px`;
        canvas.style.height = `${h}px`;
        const paintBackground = {
          id: 'background',
          beforeDraw(chart: {
            ctx: { save(): void; fillStyle: string; fillRect(...a: number[]): void; restore(): void };
          }) {
            chart.ctx.save();
            chart.ctx.fillStyle = bg;
            chart.ctx.fillRect(0, 0, w, h);
            chart.ctx.restore();
          },
        };
        const chart = new g.Chart(canvas, { ...(cfg as object), plugins: [paintBackground] });
        g.current = chart;
        return chart.toBase64Image();
      },
      config,
      width,
      height,
      background,
    );
    const prefix = 'data:image/png;base64,';
    if (!dataUrl.startsWith(prefix)) {
      throw new HubError('CHART_RENDER_FAILED', 'Chart.js did not return a PNG');
    }
    return { png: Buffer.from(dataUrl.slice(prefix.length), 'base64'), width, height };
  });
}
