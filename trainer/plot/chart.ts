// The picture `caffe plot` draws, as a Vega-Lite spec (pure): losses against iterations on the left axis,
// test accuracy (and any other test output that is not a loss) on the right axis, one legend for all.
import type { TopLevelSpec } from 'vega-lite';

import type { SeriesPoint } from './curves.js';

/** Above this many points a line is drawn without a dot on each point. */
const MAX_DOTTED_POINTS = 40;

export interface ChartOptions {
  /** The whole picture's size in pixels, title and legend included. */
  width: number;
  height: number;
  title: string;
  subtitle?: string;
}

export function chartSpec(points: SeriesPoint[], options: ChartOptions): TopLevelSpec {
  const names = [...new Set(points.map((p) => p.series))];
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: 'curve',
    scale: { domain: names },
    legend: { orient: 'bottom' as const, direction: 'horizontal' as const },
  };
  const x = { field: 'iteration', type: 'quantitative' as const, title: 'iteration' };
  const losses = points.filter((p) => p.axis === 'loss');
  const accuracies = points.filter((p) => p.axis === 'accuracy');
  const layers = [];
  if (losses.length > 0) {
    layers.push({
      data: { values: losses },
      mark: { type: 'line' as const, point: dotted(losses), strokeWidth: 1.5 },
      encoding: { x, y: { field: 'value', type: 'quantitative' as const, title: 'loss' }, color },
    });
  }
  if (accuracies.length > 0) {
    layers.push({
      data: { values: accuracies },
      mark: { type: 'line' as const, point: dotted(accuracies), strokeWidth: 1.5, strokeDash: [6, 3] },
      encoding: {
        x,
        y: {
          field: 'value',
          type: 'quantitative' as const,
          title: 'accuracy',
          axis: { orient: 'right' as const },
        },
        color,
      },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: options.width,
    height: options.height,
    // The given size is the whole picture's, axes, title and legend included.
    autosize: { type: 'fit', contains: 'padding' },
    padding: 8,
    background: 'white',
    title: { text: options.title, ...(options.subtitle ? { subtitle: options.subtitle } : {}) },
    layer: layers,
    resolve: { scale: { y: 'independent' } },
  };
}

/** Dots on every point of a short curve, so a single point (a status file) is still seen. */
function dotted(points: SeriesPoint[]): boolean {
  const most = Math.max(...countBySeries(points).values());
  return most <= MAX_DOTTED_POINTS;
}

function countBySeries(points: SeriesPoint[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of points) counts.set(p.series, (counts.get(p.series) ?? 0) + 1);
  return counts;
}
