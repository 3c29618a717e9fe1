// The chart's dashboards evaluated against a real Prometheus over a time range and drawn, one PNG per
// dashboard: every panel's queries as Grafana would send them (range queries at a step that gives a
// few hundred points, $__rate_interval as Grafana computes it, variables as a user's selection), the
// answers named by each query's legend format, and the picture from picture.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import sharp from 'sharp';

import { renderSvg } from '../../trainer/plot/render.js';
import { dashboardPicture, type PanelData, type Series } from './picture.js';
import { loadDashboards, type PanelQuery, panelsOf, type QueryIntervals, queriesOf } from './queries.js';

/** About this many points across the picture, as Grafana asks for about one per pixel of a panel. */
const POINTS_ACROSS = 300;

export interface PreviewOptions {
  /** Prometheus's base URL, http://host:port. */
  prometheus: string;
  /** The folder of dashboard JSON files. */
  dashboards: string;
  /** Where the pictures go: <out>/<dashboard file name>.png. */
  out: string;
  /** Unix milliseconds. */
  from: number;
  to: number;
  /** The dashboards' variables, each a regex as Grafana writes a multi-value selection. */
  values: Record<string, string>;
  /** Prometheus's scrape interval, from which Grafana derives $__rate_interval. */
  scrapeIntervalSeconds: number;
  /** The picture's width in pixels. */
  width: number;
}

export interface PanelReport {
  title: string;
  type: string;
  /** Series with at least one point. */
  series: number;
  points: number;
}

export interface DashboardPreview {
  file: string;
  png: string;
  panels: PanelReport[];
}

export interface QueryWindow extends QueryIntervals {
  step: number;
}

/**
 * The step of range queries and Grafana's $__rate_interval: max(interval + scrape interval,
 * 4 × scrape interval), with the interval the step (Grafana docs, "Prometheus template variables").
 */
export function queryWindow(from: number, to: number, scrapeIntervalSeconds: number): QueryWindow {
  const step = Math.max(scrapeIntervalSeconds, Math.ceil((to - from) / 1000 / POINTS_ACROSS));
  const rate = Math.max(step + scrapeIntervalSeconds, 4 * scrapeIntervalSeconds);
  return { step, rateInterval: `${rate}s`, range: `${Math.ceil((to - from) / 1000)}s` };
}

export async function previewDashboards(options: PreviewOptions): Promise<DashboardPreview[]> {
  const window = queryWindow(options.from, options.to, options.scrapeIntervalSeconds);
  mkdirSync(options.out, { recursive: true });
  const previews: DashboardPreview[] = [];
  for (const { file, dashboard: board } of loadDashboards(options.dashboards)) {
    const data: PanelData[] = [];
    for (const panel of panelsOf(board)) {
      const queries = queriesOf(file, panel, options.values, window);
      const series = (await Promise.all(queries.map((q) => evaluate(options, q, window.step)))).flat();
      data.push({ panel, series });
    }
    const spec = dashboardPicture(board, data, {
      width: options.width,
      from: options.from,
      to: options.to,
      subtitle: subtitle(board, options),
    });
    const png = join(options.out, file.replace(/\.json$/, '.png'));
    const svg = await renderSvg(spec);
    writeFileSync(
      png,
      await sharp(Buffer.from(svg, 'utf8')).flatten({ background: 'white' }).png().toBuffer(),
    );
    previews.push({ file, png, panels: data.map(report) });
  }
  return previews;
}

function report({ panel, series }: PanelData): PanelReport {
  const withPoints = series.filter((s) => s.points.length > 0);
  return {
    title: panel.title ?? '',
    type: panel.type,
    series: withPoints.length,
    points: withPoints.reduce((n, s) => n + s.points.length, 0),
  };
}

function subtitle(board: dashboard.Dashboard, options: PreviewOptions): string {
  const time = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC');
  const used = (board.templating.list ?? [])
    .filter((v) => v.type === 'query')
    .map((v) => `${v.name}=${options.values[v.name] ?? '.*'}`);
  return `${time(options.from)} to ${time(options.to)}   ${used.join('  ')}`;
}

interface MatrixResult {
  metric: Record<string, string>;
  values?: [number, string][];
  value?: [number, string];
}

/** One query's answer as named series; NaN and infinite samples (a rate over no events) are left out. */
async function evaluate(options: PreviewOptions, query: PanelQuery, step: number): Promise<Series[]> {
  const params = new URLSearchParams({ query: query.expr });
  if (query.instant) {
    params.set('time', String(options.to / 1000));
  } else {
    params.set('start', String(options.from / 1000));
    params.set('end', String(options.to / 1000));
    params.set('step', String(step));
  }
  const path = query.instant ? '/api/v1/query' : '/api/v1/query_range';
  const response = await fetch(`${options.prometheus}${path}?${params}`).catch((error: Error) => {
    throw new Error(`cannot reach Prometheus at ${options.prometheus}: ${error.cause ?? error.message}`);
  });
  const body = (await response.json()) as {
    status: string;
    data?: { result: MatrixResult[] };
    error?: string;
  };
  if (body.status !== 'success' || !body.data) {
    throw new Error(`${query.where}: Prometheus answered ${body.error ?? response.status} to ${query.expr}`);
  }
  return body.data.result.map(({ metric, values, value }) => ({
    name: seriesName(query.legendFormat, metric),
    labels: metric,
    points: (values ?? (value ? [value] : []))
      .map(([t, v]): [number, number] => [t * 1000, Number(v)])
      .filter(([, v]) => Number.isFinite(v)),
  }));
}

/** Grafana's legend: {{label}} replaced by the series' label (empty when it has none); else all labels. */
export function seriesName(legendFormat: string, labels: Record<string, string>): string {
  if (legendFormat)
    return legendFormat.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? '');
  const { __name__: name = '', ...rest } = labels;
  return `${name}{${Object.entries(rest)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}}`;
}
