// What the chart's two dashboards share, written with Grafana's own builders
// (@grafana/grafana-foundation-sdk): the Prometheus data source variable, label variables, PromQL
// selectors over them, and the panel kinds both use with the same legend and tooltip.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** Every panel and query reads the Prometheus the user picks in the data source variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal.
export const DATASOURCE: dashboard.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** What both dashboards share: identity, tags, a 30 s refresh over the last 6 hours, the data source. */
export function breweryDashboard(
  title: string,
  uid: string,
  description: string,
  tags: string[],
): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(tags)
    .editable()
    .timezone('browser')
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(datasourceVariable());
}

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus');
}

/** A multi-value variable listing one label's values; "All" matches any value. */
export function labelVariable(name: string, label: string, query: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query({ query, refId: `${name}-variable` })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
}

/** `metric{name=~"$name", ...}` for each variable, then any extra matchers. */
export function selector(metric: string, variables: string[], ...matchers: string[]): string {
  return `${metric}{${[...variables.map((v) => `${v}=~"$${v}"`), ...matchers].join(', ')}}`;
}

/** A range query of the dashboard's Prometheus, each series named by the legend's {{label}}s. */
export function promQuery(refId: string, expr: string, legend: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .refId(refId)
    .datasource(DATASOURCE)
    .expr(expr)
    .legendFormat(legend)
    .range();
}

/** An instant query whose series' labels become a table's columns. */
export function tableQuery(refId: string, expr: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .refId(refId)
    .datasource(DATASOURCE)
    .expr(expr)
    .instant()
    .format(prometheus.PromQueryFormat.Table);
}

/** A time series panel with a table legend of each series' last value, and one tooltip for all. */
export function timeSeriesPanel(
  title: string,
  description: string,
  unit: string,
  queries: prometheus.DataqueryBuilder[],
): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true)
        .calcs(['lastNotNull']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );
  for (const query of queries) panel.withTarget(query);
  return panel;
}

/** Loss spans orders of magnitude, from ln(1000) ≈ 6.9 at the start of ImageNet training down. */
export function logScale(): common.ScaleDistributionConfigBuilder {
  return new common.ScaleDistributionConfigBuilder().type(common.ScaleDistribution.Log).log(10);
}

/** The latest value of each series, large. */
export function statPanel(
  title: string,
  description: string,
  unit: string,
  query: prometheus.DataqueryBuilder,
): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .withTarget(query);
}
