// A dashboard drawn as one picture (pure): Grafana's grid of panels, each with its title, its unit on
// the value axis and a legend of its series with their last values, as a Vega-Lite spec that
// trainer/plot/render.ts renders like `caffe plot`'s charts. Panels are drawn the way Grafana draws
// their kind: time series as lines (on a log axis where the panel says so), stat and bar gauge as the
// last value of each series, a table as rows of labels, a state timeline as bars where a series is
// present. A panel without data says so, as Grafana does.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { TopLevelSpec } from 'vega-lite';

import { isRow } from './queries.js';

/** Grafana's grid is 24 columns wide; a grid row is about 30 pixels high. */
const GRID_COLUMNS = 24;
const GRID_ROW_PIXELS = 30;
/** Room a panel's title, axes and padding take from its cell. */
const PANEL_CHROME = { width: 80, height: 56 };
const NO_DATA = '#999999';

export interface Series {
  /** The legend's name: the panel's legend format with the series' labels filled in. */
  name: string;
  labels: Record<string, string>;
  /** [unix milliseconds, value], in time order. */
  points: [number, number][];
}

export interface PanelData {
  panel: dashboard.Panel;
  series: Series[];
}

export interface PictureOptions {
  /** The whole grid's width in pixels. */
  width: number;
  /** The time range the panels were queried over, in unix milliseconds. */
  from: number;
  to: number;
  subtitle: string;
}

/** One view of the picture, as Vega-Lite JSON. */
type View = Record<string, unknown>;

interface Cell {
  width: number;
  height: number;
}

export function dashboardPicture(
  board: dashboard.Dashboard,
  panels: PanelData[],
  options: PictureOptions,
): TopLevelSpec {
  const dataOf = new Map(panels.map((p) => [p.panel, p.series]));
  const column = options.width / GRID_COLUMNS;
  const bands: View[] = [];
  for (const band of gridBands(board.panels ?? [])) {
    const views = band.map((panel): View => {
      const cell = {
        width: Math.max(40, Math.round((panel.gridPos?.w ?? GRID_COLUMNS) * column) - PANEL_CHROME.width),
        height: Math.max(30, (panel.gridPos?.h ?? 8) * GRID_ROW_PIXELS - PANEL_CHROME.height),
      };
      if (isRow(panel)) return rowHeader(panel.title ?? '', options.width);
      return panelView(panel, dataOf.get(panel) ?? [], cell, options);
    });
    bands.push(views.length === 1 ? views[0]! : { hconcat: views, resolve: INDEPENDENT, spacing: 24 });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 16,
    title: { text: board.title ?? '', subtitle: options.subtitle, anchor: 'start', fontSize: 20 },
    vconcat: bands,
    spacing: 16,
    resolve: INDEPENDENT,
    config: { view: { stroke: '#dddddd' }, title: { anchor: 'start', fontSize: 14 }, font: 'sans-serif' },
    // The views are plain objects, built per panel kind; Vega-Lite's compile checks them when drawn.
  } as unknown as TopLevelSpec;
}

/** Each panel keeps its own colours, scales and legend. */
const INDEPENDENT = {
  scale: { color: 'independent', x: 'independent', y: 'independent' },
  legend: { color: 'independent' },
  axis: { x: 'independent', y: 'independent' },
};

/** Panels grouped by grid row (y), left to right: Grafana lays a dashboard out this way. */
export function gridBands(
  panels: (dashboard.Panel | dashboard.RowPanel)[],
): (dashboard.Panel | dashboard.RowPanel)[][] {
  const byY = new Map<number, (dashboard.Panel | dashboard.RowPanel)[]>();
  for (const panel of panels) {
    const y = panel.gridPos?.y ?? 0;
    byY.set(y, [...(byY.get(y) ?? []), panel]);
  }
  return [...byY.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, band]) => band.sort((a, b) => (a.gridPos?.x ?? 0) - (b.gridPos?.x ?? 0)));
}

function rowHeader(title: string, width: number): View {
  return {
    width,
    height: 18,
    view: { stroke: null },
    data: { values: [{}] },
    mark: { type: 'text', text: title, align: 'left', baseline: 'middle', fontSize: 16, fontWeight: 'bold' },
    encoding: { x: { value: 0 }, y: { value: 9 } },
  };
}

function panelView(panel: dashboard.Panel, series: Series[], cell: Cell, options: PictureOptions): View {
  const title = {
    text: panel.title ?? '',
    ...(unitLabel(unitOf(panel)) ? { subtitle: unitLabel(unitOf(panel)) } : {}),
  };
  const withPoints = series.filter((s) => s.points.length > 0);
  if (withPoints.length === 0) return { title, ...noData(cell) };
  switch (panel.type) {
    case 'stat':
      return { title, ...statView(panel, withPoints, cell) };
    case 'bargauge':
      return { title, ...barGaugeView(panel, withPoints, cell) };
    case 'table':
      return { title, ...tableView(withPoints, cell) };
    case 'state-timeline':
      return { title, ...stateTimelineView(withPoints, cell, options) };
    default:
      return { title, ...timeSeriesView(panel, withPoints, cell, options) };
  }
}

function noData(cell: Cell): View {
  return {
    ...cell,
    data: { values: [{}] },
    mark: { type: 'text', text: 'No data', fontSize: 16, color: NO_DATA },
    encoding: { x: { value: cell.width / 2 }, y: { value: cell.height / 2 } },
  };
}

function timeSeriesView(panel: dashboard.Panel, series: Series[], cell: Cell, options: PictureOptions): View {
  const unit = unitOf(panel);
  const log = panel.fieldConfig?.defaults?.custom?.scaleDistribution?.type === 'log';
  const names = series.map((s) => legendEntry(s, unit));
  const values = series.flatMap((s, i) =>
    s.points.filter(([, v]) => !log || v > 0).map(([t, value]) => ({ t, value, series: names[i] })),
  );
  const { min, max } = panel.fieldConfig?.defaults ?? {};
  const domain = typeof min === 'number' && typeof max === 'number' ? { domain: [min, max] } : {};
  const legendRows = Math.min(series.length, 6);
  return {
    width: cell.width,
    height: Math.max(40, cell.height - legendRows * 14),
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5, interpolate: 'linear', point: pointsAreSparse(series) },
    encoding: {
      x: timeAxis(options),
      y: {
        field: 'value',
        type: 'quantitative',
        title: null,
        scale: { ...(log ? { type: 'log' } : { zero: false }), ...domain },
        axis: { ...axisFormat(unit), tickCount: 5 },
      },
      color: {
        field: 'series',
        type: 'nominal',
        scale: { domain: names },
        legend: {
          orient: 'bottom',
          direction: 'vertical',
          title: null,
          labelLimit: cell.width + 40,
          columns: 1,
        },
      },
    },
  };
}

function statView(panel: dashboard.Panel, series: Series[], cell: Cell): View {
  const unit = unitOf(panel);
  const values = series.map((s) => ({ series: s.name, text: formatValue(lastValue(s), unit) }));
  return {
    ...cell,
    data: { values },
    mark: { type: 'text', fontSize: 26, fontWeight: 'bold', color: '#37872d' },
    encoding: {
      y: {
        field: 'series',
        type: 'nominal',
        title: null,
        axis: { domain: false, ticks: false, labelFontSize: 12 },
      },
      x: { value: cell.width / 2 },
      text: { field: 'text' },
    },
  };
}

function barGaugeView(panel: dashboard.Panel, series: Series[], cell: Cell): View {
  const unit = unitOf(panel);
  const { min = 0, max } = panel.fieldConfig?.defaults ?? {};
  const values = series.map((s) => ({
    series: s.name,
    value: lastValue(s),
    text: formatValue(lastValue(s), unit),
  }));
  const y = { field: 'series', type: 'nominal', title: null };
  const x = {
    field: 'value',
    type: 'quantitative',
    title: null,
    scale: { domain: [min, max ?? Math.max(...values.map((v) => v.value))] },
    axis: { ...axisFormat(unit), tickCount: 4 },
  };
  return {
    ...cell,
    data: { values },
    layer: [
      { mark: { type: 'bar', color: '#73bf69' }, encoding: { x, y } },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontWeight: 'bold' },
        encoding: { x, y, text: { field: 'text' } },
      },
    ],
  };
}

/** An instant query in table format: one row per series, one column per label, then the value. */
function tableView(series: Series[], cell: Cell): View {
  const columns = [...new Set(series.flatMap((s) => Object.keys(s.labels)))].filter((c) => c !== '__name__');
  const values = series.flatMap((s, row) => [
    ...columns.map((column) => ({ row, column, text: s.labels[column] ?? '' })),
    { row, column: 'Value', text: formatValue(lastValue(s), 'none') },
  ]);
  return {
    ...cell,
    data: { values },
    mark: { type: 'text', align: 'left', dx: -30, fontSize: 12 },
    encoding: {
      x: {
        field: 'column',
        type: 'ordinal',
        sort: [...columns, 'Value'],
        title: null,
        axis: { orient: 'top', labelAngle: 0, ticks: false, domain: false, labelFontWeight: 'bold' },
      },
      y: { field: 'row', type: 'ordinal', axis: null },
      text: { field: 'text' },
    },
  };
}

/** Where each series is present, a bar: the phase panel's series exist while a job is in that phase. */
function stateTimelineView(series: Series[], cell: Cell, options: PictureOptions): View {
  const values = series.flatMap((s) =>
    s.points.map(([t], i) => ({ series: s.name, t, t2: s.points[i + 1]?.[0] ?? t, y: s.name })),
  );
  const step = minimumStep(series);
  for (const v of values) if (v.t2 === v.t || v.t2 - v.t > step * 1.5) v.t2 = v.t + step;
  return {
    ...cell,
    data: { values },
    mark: { type: 'rect', height: { band: 0.7 } },
    encoding: {
      x: timeAxis(options),
      x2: { field: 't2' },
      y: { field: 'y', type: 'nominal', title: null, axis: { labelLimit: 320, ticks: false, domain: false } },
      color: { field: 'series', type: 'nominal', legend: null },
    },
  };
}

function timeAxis(options: PictureOptions): View {
  return {
    field: 't',
    type: 'temporal',
    title: null,
    // domainMin/Max rather than domain: Vega-Lite warns of a conflict with the x2 of a rect otherwise.
    scale: { type: 'utc', domainMin: options.from, domainMax: options.to },
    axis: {
      format: timeFormat(options.to - options.from),
      tickCount: 6,
      labelOverlap: true,
    },
  };
}

function minimumStep(series: Series[]): number {
  let step = Number.POSITIVE_INFINITY;
  for (const s of series) {
    for (let i = 1; i < s.points.length; i++) step = Math.min(step, s.points[i]![0] - s.points[i - 1]![0]);
  }
  return Number.isFinite(step) ? step : 15_000;
}

/** Dots on a curve of few points, so a single sample is still seen. */
function pointsAreSparse(series: Series[]): boolean {
  return Math.max(...series.map((s) => s.points.length)) <= 3;
}

function lastValue(series: Series): number {
  return series.points[series.points.length - 1]![1];
}

/** As Grafana's table legend with the lastNotNull calculation: the name, then the last value. */
function legendEntry(series: Series, unit: string): string {
  return `${series.name}   last ${formatValue(lastValue(series), unit)}`;
}

export function unitOf(panel: dashboard.Panel): string {
  return panel.fieldConfig?.defaults?.unit ?? 'none';
}

/** What a Grafana unit says beside the title; nothing for plain numbers. */
export function unitLabel(unit: string): string {
  if (unit.startsWith('suffix:')) return unit.slice('suffix:'.length).trim();
  return (
    { s: 'seconds', ms: 'milliseconds', ops: 'per second', percentunit: 'percent', bytes: 'bytes' }[unit] ??
    ''
  );
}

/** Percentages as such; other values with the significant digits the ticks need, never an exponent. */
function axisFormat(unit: string): { format: string } {
  return { format: unit === 'percentunit' ? '.0%' : '~r' };
}

/** Clock times in UTC, as the subtitle gives the range: seconds for a short range, dates for a long one. */
export function timeFormat(rangeMs: number): string {
  if (rangeMs <= 30 * 60_000) return '%H:%M:%S';
  if (rangeMs <= 2 * 86_400_000) return '%H:%M';
  return '%b %d %H:%M';
}

/** A value as Grafana would print it in a legend or stat: the unit's form, about four digits. */
export function formatValue(value: number, unit: string): string {
  if (unit === 'percentunit') return `${Number((value * 100).toPrecision(3))}%`;
  const digits = Math.abs(value) >= 1000 ? String(Math.round(value)) : String(Number(value.toPrecision(4)));
  if (unit === 's') return value < 1 ? `${Number((value * 1000).toPrecision(3))} ms` : `${digits} s`;
  if (unit === 'ops') return `${digits}/s`;
  if (unit.startsWith('suffix:')) return `${digits}${unit.slice('suffix:'.length)}`;
  return digits;
}
