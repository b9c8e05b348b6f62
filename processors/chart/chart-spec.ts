import { HubError } from '../../core/errors.ts';

/** The chart kinds we draw; anything else is refused with CHART_TYPE_UNKNOWN. */
export const chartTypes = ['bar', 'line', 'pie', 'doughnut', 'scatter'] as const;
export type ChartType = (typeof chartTypes)[number];

/** A chart request; mirrors `tributary.media.ChartRenderRequest`. */
export interface ChartSpec {
  chartType: string;
  title?: string | null;
  width?: number;
  height?: number;
  labels?: string[];
  datasets: { label: string; values?: number[]; points?: { x: number; y: number }[]; colours?: string[] }[];
  background?: string | null;
}

export const maxChartEdge = 4096;

const palette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7'];

/** Validates a spec and builds the Chart.js config; errors name the field that is wrong. */
export function toChartJsConfig(spec: ChartSpec): { type: ChartType; data: unknown; options: unknown } {
  const type = spec.chartType as ChartType;
  if (!chartTypes.includes(type)) {
    throw new HubError('CHART_TYPE_UNKNOWN', `unknown chart type "${spec.chartType}"`, {
      where: { field: 'chartType' },
      hint: `use one of ${chartTypes.join(', ')}`,
    });
  }
  for (const [field, value] of [
    ['width', spec.width ?? 800],
    ['height', spec.height ?? 600],
  ] as const) {
    if (!Number.isInteger(value) || value < 16 || value > maxChartEdge) {
      throw new HubError('CHART_BAD_SIZE', `${field} ${value} is outside 16..${maxChartEdge} pixels`, {
        where: { field },
      });
    }
  }
  if (spec.datasets.length === 0) {
    throw new HubError('CHART_NO_DATA', 'the chart has no datasets', { where: { field: 'datasets' } });
  }
  const perValueColours = type === 'pie' || type === 'doughnut';
  const datasets = spec.datasets.map((d, i) => {
    const values = d.values ?? [];
    const points = d.points ?? [];
    if (type === 'scatter' ? points.length === 0 : values.length === 0) {
      throw new HubError(
        'CHART_NO_DATA',
        `dataset "${d.label}" has no ${type === 'scatter' ? 'points' : 'values'}`,
        {
          where: { field: `datasets[${i}].${type === 'scatter' ? 'points' : 'values'}` },
        },
      );
    }
    const colours = d.colours?.length
      ? d.colours
      : perValueColours
        ? values.map((_, j) => palette[j % palette.length]!)
        : [palette[i % palette.length]!];
    // One colour per series, or one per value when several are given (bars, slices).
    const colour = perValueColours || colours.length > 1 ? colours : colours[0];
    return {
      label: d.label,
      data: type === 'scatter' ? points : values,
      backgroundColor: colour,
      borderColor: type === 'line' || type === 'scatter' ? colour : perValueColours ? '#ffffff' : colour,
      borderWidth: type === 'bar' ? 0 : 2,
    };
  });
  return {
    type,
    data: { labels: spec.labels ?? [], datasets },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      plugins: {
        title: { display: Boolean(spec.title), text: spec.title ?? '' },
        legend: { display: true },
      },
    },
  };
}
