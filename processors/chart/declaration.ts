import { ACTIONS_TOPIC } from '../../platform/actions.ts';
import { declareComponent } from '../../platform/declaration.ts';
import { createMediaService, PROGRESS_TOPIC } from '../shared/media-service.ts';
import {
  CHART_REQUEST_TOPIC,
  CHART_RESULT_TOPIC,
  type ChartConfig,
  chartConfigSchema,
  createChartJob,
} from './job.ts';

/** processor.chart: draws charts with Chart.js in headless Chromium from `media.chart.render.req`. */
export const chartProcessorDeclaration = declareComponent<ChartConfig>({
  name: 'processor.chart',
  kind: 'processor',
  description:
    'Draws bar, line, pie, doughnut and scatter charts as PNG with Chart.js in one warm headless Chromium (page pool).',
  config: chartConfigSchema,
  topics: [
    {
      name: CHART_REQUEST_TOPIC,
      description: 'Chart render requests (type, labels, datasets, size, title, colours).',
      valueSchema: 'tributary.media.ChartRenderRequest',
      keyType: 'string',
      partitions: 3,
      cleanupPolicy: 'delete',
      retentionMs: 7 * 24 * 3600 * 1000,
      deadLetter: true,
    },
    {
      name: CHART_RESULT_TOPIC,
      description: 'Rendered charts as blob references to PNGs, matched to requests by correlation id.',
      valueSchema: 'tributary.media.ChartRenderResult',
      keyType: 'string',
      partitions: 3,
      cleanupPolicy: 'delete',
      retentionMs: 7 * 24 * 3600 * 1000,
    },
  ],
  produces: [CHART_RESULT_TOPIC, PROGRESS_TOPIC, ACTIONS_TOPIC],
  consumes: [CHART_REQUEST_TOPIC],
  commands: [
    {
      name: 'chart.render',
      title: 'Render a chart',
      description:
        'Draw a bar, line, pie, doughnut or scatter chart as a PNG of the given size, with an optional title and colours.',
      topic: CHART_REQUEST_TOPIC,
      resultTopic: CHART_RESULT_TOPIC,
      mutating: false,
    },
  ],
  create(config, deps) {
    const job = createChartJob(config);
    return createMediaService([job.spec], config, deps, { name: 'processor.chart', onClose: job.close });
  },
});
