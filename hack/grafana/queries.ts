// Reads the chart's generated dashboards back through the SDK's types, and turns them into the PromQL
// Prometheus is asked: each panel target's expression with Grafana's variables replaced, the labels its
// legend names, and each query variable as an expression over the label it lists. The preview and the
// tests of the dashboards' queries both read the dashboards this way.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';

import { BadInputError } from '../../trainer/contract/errors.js';

export interface PanelQuery {
  /** "<dashboard file> / <panel title> / <refId>", for messages. */
  where: string;
  refId: string;
  /** The expression as written in the dashboard. */
  written: string;
  /** The expression Prometheus is asked: variables replaced. */
  expr: string;
  /** The legend format, `{{job_name}} smoothed`; empty for a table's columns. */
  legendFormat: string;
  /** Labels the legend format prints ({{job_name}}): every result series must carry them. */
  legendLabels: string[];
  /** An instant query (a table's rows) rather than a range. */
  instant: boolean;
}

/** Grafana's interval variables: $__rate_interval, and $__range (the dashboard's time range). */
export interface QueryIntervals {
  rateInterval: string;
  range: string;
}

export interface LoadedDashboard {
  file: string;
  dashboard: dashboard.Dashboard;
}

/** A dashboard file, checked for what Grafana and our readers need of it: the error names the field. */
export function parseDashboard(text: string, file: string): dashboard.Dashboard {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BadInputError(`expected a Grafana dashboard in JSON, ${(error as Error).message}`, file);
  }
  const board = json as Partial<dashboard.Dashboard>;
  for (const field of ['uid', 'title'] as const) {
    if (typeof board[field] !== 'string') throw new BadInputError(`expected a string`, `${file}: ${field}`);
  }
  if (typeof board.schemaVersion !== 'number') {
    throw new BadInputError('expected a number', `${file}: schemaVersion`);
  }
  if (!Array.isArray(board.panels)) throw new BadInputError('expected a list of panels', `${file}: panels`);
  panelsOf(board as dashboard.Dashboard).forEach((panel, i) => {
    const where = `${file}: panels[${i}] (${panel.title ?? 'untitled'})`;
    if (typeof panel.type !== 'string') throw new BadInputError('expected a panel type', `${where}.type`);
    const { gridPos } = panel;
    if (!gridPos || ![gridPos.x, gridPos.y, gridPos.w, gridPos.h].every(Number.isInteger)) {
      throw new BadInputError('expected integers x, y, w and h', `${where}.gridPos`);
    }
    for (const [j, target] of (panel.targets ?? []).entries()) {
      const query = target as Partial<prometheus.dataquery>;
      if (typeof query.expr !== 'string' || typeof query.refId !== 'string' || query.refId === '') {
        throw new BadInputError('expected a Prometheus query with expr and refId', `${where}.targets[${j}]`);
      }
    }
  });
  return board as dashboard.Dashboard;
}

export function loadDashboards(dir: string): LoadedDashboard[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: parseDashboard(readFileSync(join(dir, file), 'utf8'), file) }));
}

/** Every panel but rows, in layout order; a collapsed row's panels too. */
export function panelsOf(board: dashboard.Dashboard): dashboard.Panel[] {
  return (board.panels ?? []).flatMap((panel) => (isRow(panel) ? (panel.panels ?? []) : [panel]));
}

export function isRow(panel: dashboard.Panel | dashboard.RowPanel): panel is dashboard.RowPanel {
  return panel.type === 'row';
}

/** The Prometheus queries of one panel, variables replaced. */
export function queriesOf(
  file: string,
  panel: dashboard.Panel,
  values: Record<string, string>,
  intervals: QueryIntervals,
): PanelQuery[] {
  return (panel.targets ?? []).map((target) => {
    const query = target as prometheus.dataquery;
    const legendFormat = query.legendFormat ?? '';
    return {
      where: `${file} / ${panel.title} / ${query.refId}`,
      refId: query.refId ?? '',
      written: query.expr,
      expr: substituteVariables(query.expr, values, intervals),
      legendFormat,
      legendLabels: [...legendFormat.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!),
      instant: query.instant === true && query.range !== true,
    };
  });
}

/**
 * Grafana's variables replaced as a user's selection would: each dashboard variable by the value
 * given for it (a regex, as Grafana writes a multi-value selection), and the interval variables by
 * the windows given.
 */
export function substituteVariables(
  expr: string,
  values: Record<string, string>,
  intervals: QueryIntervals,
): string {
  return expr
    .replaceAll('$__rate_interval', intervals.rateInterval)
    .replaceAll('$__interval', intervals.rateInterval)
    .replaceAll('$__range', intervals.range)
    .replace(/\$\{?(\w+)\}?/g, (_, name: string) => {
      const value = values[name];
      if (value === undefined) throw new Error(`no value for the dashboard variable $${name} in ${expr}`);
      return value;
    });
}

export function panelQueries(
  dir: string,
  values: Record<string, string>,
  intervals: QueryIntervals,
): PanelQuery[] {
  return loadDashboards(dir).flatMap(({ file, dashboard }) =>
    panelsOf(dashboard).flatMap((panel) => queriesOf(file, panel, values, intervals)),
  );
}

/** Each `label_values(selector, label)` variable as `count by (label) (selector)`. */
export function variableQueries(dir: string, values: Record<string, string>): PanelQuery[] {
  const queries: PanelQuery[] = [];
  for (const { file, dashboard } of loadDashboards(dir)) {
    for (const variable of dashboard.templating.list ?? []) {
      if (variable.type !== 'query') continue;
      const query = variable.query as string | { query?: string } | undefined;
      const text = typeof query === 'string' ? query : (query?.query ?? '');
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(text.trim());
      if (!match) {
        throw new BadInputError(
          `expected label_values(selector, label), received ${text}`,
          `${file}: variable ${variable.name}`,
        );
      }
      const [, selector, label] = match;
      queries.push({
        where: `${file} / variable ${variable.name}`,
        refId: variable.name,
        written: text,
        expr: `count by (${label}) (${substituteVariables(selector!, values, { rateInterval: '1m', range: '1m' })})`,
        legendFormat: `{{${label}}}`,
        legendLabels: [label!],
        instant: true,
      });
    }
  }
  return queries;
}

/** The metric names an expression reads: our dashboards always select with braces, `name{...}`. */
export function metricNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1]!))];
}
