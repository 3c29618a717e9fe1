// Reads the chart's Grafana dashboards into the PromQL a test can evaluate: each panel target's
// expression with Grafana's variables replaced, the labels its legend names, and each query
// variable as an expression over the label it lists.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PanelQuery {
  /** "<dashboard file> / <panel title> / <refId>", for messages. */
  where: string;
  /** The expression as written in the dashboard. */
  written: string;
  /** The expression Prometheus is asked: variables replaced. */
  expr: string;
  /** Labels the legend format prints ({{job_name}}): every result series must carry them. */
  legendLabels: string[];
}

interface Target {
  refId: string;
  expr?: string;
  legendFormat?: string;
}

interface Panel {
  title: string;
  type: string;
  targets?: Target[];
  panels?: Panel[];
}

interface Variable {
  name: string;
  type: string;
  query?: { query?: string } | string;
}

interface Dashboard {
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

/**
 * Grafana's variables replaced as a user's selection would: each dashboard variable by the value
 * given for it, and the interval variables by a window several scrape intervals long.
 */
export function substituteVariables(
  expr: string,
  values: Record<string, string>,
  rateInterval: string,
): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', rateInterval)
    .replaceAll('$__range', rateInterval)
    .replace(/\$\{?(\w+)\}?/g, (_, name: string) => {
      const value = values[name];
      if (value === undefined) throw new Error(`no value for the dashboard variable $${name} in ${expr}`);
      return value;
    });
}

export function loadDashboards(dir: string): { file: string; dashboard: Dashboard }[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dashboard }));
}

export function panelQueries(
  dir: string,
  values: Record<string, string>,
  rateInterval: string,
): PanelQuery[] {
  const queries: PanelQuery[] = [];
  for (const { file, dashboard } of loadDashboards(dir)) {
    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (!target.expr) continue;
        queries.push({
          where: `${file} / ${panel.title} / ${target.refId}`,
          written: target.expr,
          expr: substituteVariables(target.expr, values, rateInterval),
          legendLabels: [...(target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!),
        });
      }
    }
  }
  return queries;
}

/** Each `label_values(selector, label)` variable as `count by (label) (selector)`. */
export function variableQueries(dir: string, values: Record<string, string>): PanelQuery[] {
  const queries: PanelQuery[] = [];
  for (const { file, dashboard } of loadDashboards(dir)) {
    for (const variable of dashboard.templating.list) {
      if (variable.type !== 'query') continue;
      const text = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(text.trim());
      if (!match)
        throw new Error(
          `${file}: variable ${variable.name}: expected label_values(selector, label), received ${text}`,
        );
      const [, selector, label] = match;
      queries.push({
        where: `${file} / variable ${variable.name}`,
        written: text,
        expr: `count by (${label}) (${substituteVariables(selector!, values, '1m')})`,
        legendLabels: [label!],
      });
    }
  }
  return queries;
}

/** The metric names an expression reads: our dashboards always select with braces, `name{...}`. */
export function metricNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1]!))];
}
