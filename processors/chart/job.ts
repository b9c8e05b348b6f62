import type { z } from 'zod';
import type { EventData } from '../../schemas/index.ts';
import type { MediaJobSpec } from '../shared/media-service.ts';
import { processorBaseConfigSchema } from '../shared/processor-config.ts';
import { browserPoolSettingsSchema, createBrowserPool } from './browser-pool.ts';
import { renderChart } from './render-chart.ts';

type Request = EventData<'tributary.media.ChartRenderRequest'>;
type Result = EventData<'tributary.media.ChartRenderResult'>;

export const chartConfigSchema = processorBaseConfigSchema.extend({
  browser: browserPoolSettingsSchema
    .default(browserPoolSettingsSchema.parse({}))
    .describe('Headless Chromium and its page pool'),
});

export type ChartConfig = z.infer<typeof chartConfigSchema>;

export const CHART_REQUEST_TOPIC = 'media.chart.render.req';
export const CHART_RESULT_TOPIC = 'media.chart.render.res';

/** The chart.render job: draw the chart, store the PNG in the blob store, answer with its reference. */
export function createChartJob(config: ChartConfig) {
  const pool = createBrowserPool(config.browser);
  const spec: MediaJobSpec<Request, Result> = {
    component: 'processor.chart',
    command: 'chart.render',
    requestTopic: CHART_REQUEST_TOPIC,
    resultTopic: CHART_RESULT_TOPIC,
    resultType: 'tributary.media.ChartRenderResult',
    async handle(data, job) {
      const chart = await renderChart(data, pool, { timeoutMs: config.runner.timeoutMs });
      const image = await job.blobs.put(chart.png, 'image/png');
      return { provider: 'chartjs', model: null, image, width: chart.width, height: chart.height };
    },
    failed() {
      return { provider: 'chartjs', model: null, image: null, width: null, height: null };
    },
  };
  return { spec, pool, close: () => pool.close() };
}
