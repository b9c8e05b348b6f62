import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { createBrowserPool } from '../../processors/chart/browser-pool.ts';
import { renderChart } from '../../processors/chart/render-chart.ts';

async function pixel(png: Buffer, x: number, y: number): Promise<string> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return `#${[data[i]!, data[i + 1]!, data[i + 2]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

describe('chart processor (Chart.js in headless Chromium)', () => {
  const pool = createBrowserPool({ maxPages: 2 });
  afterAll(() => pool.close());

  const bars = (width: number, height: number) => ({
    chartType: 'bar',
    width,
    height,
    labels: ['north', 'south'],
    datasets: [{ label: 'sales', values: [10, 10], colours: ['#ff0000', '#0000ff'] }],
  });

  it('draws a bar chart PNG of the requested size with the bar colours at known pixels', async () => {
    const chart = await renderChart({ ...bars(600, 400), title: 'Sales' }, pool);
    const meta = await sharp(chart.png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 600, 400]);
    // Two equal bars fill the middle of each half of the plot area, from the axis to the top.
    expect(await pixel(chart.png, 180, 300)).toBe('#ff0000');
    expect(await pixel(chart.png, 440, 300)).toBe('#0000ff');
    expect(await pixel(chart.png, 2, 2)).toBe('#ffffff');
  }, 60_000);

  it('draws line, pie, doughnut and scatter charts, concurrently', async () => {
    const specs = [
      { chartType: 'line', labels: ['a', 'b', 'c'], datasets: [{ label: 'l', values: [1, 3, 2] }] },
      {
        chartType: 'pie',
        labels: ['a', 'b'],
        datasets: [{ label: 'p', values: [1, 1], colours: ['#00ff00', '#00ff00'] }],
      },
      { chartType: 'doughnut', labels: ['a', 'b'], datasets: [{ label: 'd', values: [2, 1] }] },
      {
        chartType: 'scatter',
        datasets: [
          {
            label: 's',
            points: [
              { x: 1, y: 2 },
              { x: 3, y: 1 },
            ],
          },
        ],
      },
    ];
    const charts = await Promise.all(specs.map((s) => renderChart({ ...s, width: 320, height: 240 }, pool)));
    for (const c of charts) expect((await sharp(c.png).metadata()).width).toBe(320);
    // Inside a pie whose two slices are both green, away from the white slice border.
    expect(await pixel(charts[1]!.png, 140, 150)).toBe('#00ff00');
  }, 60_000);

  it('refuses an unknown chart type with a clear error', async () => {
    const err = (await renderChart({ ...bars(100, 100), chartType: 'radar' }, pool).catch(
      (e: unknown) => e,
    )) as HubError;
    expect(err).toBeInstanceOf(HubError);
    expect(err.code).toBe('CHART_TYPE_UNKNOWN');
    expect(err.message).toContain('radar');
    expect(err.where.field).toBe('chartType');
  });

  it('replaces a browser that was killed', async () => {
    await renderChart(bars(200, 150), pool);
    const pid = await pool.browserPid();
    expect(pid).toBeTypeOf('number');
    process.kill(pid!, 'SIGKILL');
    await expect.poll(() => pool.status().browserRunning, { timeout: 10_000 }).toBe(false);
    const chart = await renderChart(bars(200, 150), pool);
    expect((await sharp(chart.png).metadata()).height).toBe(150);
    expect(await pool.browserPid()).not.toBe(pid);
  }, 60_000);
});
