// The operator dashboard, for the person running the cluster: which instance leads, how reconciles go
// (rate, errors, latency, queue), whether the informers keep up, and the objects by phase. Metrics:
// operator/runtime/metrics.ts; labels: charts/brewery/prometheus/scrape-configs.yaml.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

import {
  breweryDashboard,
  labelVariable,
  promQuery,
  selector,
  statPanel,
  timeSeriesPanel,
} from './panels.js';

const of = (metric: string, ...matchers: string[]) => selector(metric, ['namespace'], ...matchers);

export function operatorDashboard(): dashboard.Dashboard {
  return breweryDashboard(
    'Brewery / Operator',
    'brewery-operator',
    'The Brewery operator: leader, reconciles, errors, latency, queue depth, informers, objects by phase.',
    ['brewery', 'operator'],
  )
    .withVariable(
      labelVariable('namespace', 'Operator namespace', 'label_values(brewery_operator_leader, namespace)'),
    )
    .withRow(new dashboard.RowBuilder('Health'))
    .withPanel(
      statPanel(
        'Leader',
        'Which operator pod holds the lease (1 = leader).',
        'none',
        promQuery('A', `max by (pod) (${of('brewery_operator_leader')})`, '{{pod}}'),
      )
        .height(5)
        .span(8),
    )
    .withPanel(
      statPanel(
        'Operator instances',
        'Operator pods reporting metrics (a standby counts too).',
        'none',
        promQuery('A', `count by (namespace) (${of('brewery_operator_leader')})`, '{{namespace}}'),
      )
        .height(5)
        .span(8),
    )
    .withPanel(
      statPanel(
        'Informer errors',
        'List or watch errors the informers recovered from, by resource.',
        'none',
        promQuery('A', `max by (resource) (${of('brewery_operator_informer_errors')})`, '{{resource}}'),
      )
        .height(5)
        .span(8),
    )
    .withRow(new dashboard.RowBuilder('Reconciles'))
    .withPanel(
      timeSeriesPanel(
        'Reconciles by controller and result',
        'Reconciles per second: success, requeue or error.',
        'ops',
        [
          promQuery(
            'A',
            `sum by (controller, result) (rate(${of('brewery_operator_reconciles_total')}[$__rate_interval]))`,
            '{{controller}} {{result}}',
          ),
        ],
      )
        .height(8)
        .span(12),
    )
    .withPanel(
      timeSeriesPanel(
        'Reconcile errors',
        'Reconciles per second that returned an error (0 when none did).',
        'ops',
        [
          promQuery(
            'A',
            `sum by (controller) (rate(${of('brewery_operator_reconciles_total', 'result="error"')}[$__rate_interval])) or sum by (controller) (rate(${of('brewery_operator_reconciles_total')}[$__rate_interval])) * 0`,
            '{{controller}}',
          ),
        ],
      )
        .height(8)
        .span(12),
    )
    .withPanel(
      timeSeriesPanel('Reconcile duration', 'Median and 99th percentile time of one reconcile.', 's', [
        promQuery(
          'A',
          `histogram_quantile(0.5, sum by (controller, le) (rate(${of('brewery_operator_reconcile_duration_seconds_bucket')}[$__rate_interval])))`,
          '{{controller}} p50',
        ),
        promQuery(
          'B',
          `histogram_quantile(0.99, sum by (controller, le) (rate(${of('brewery_operator_reconcile_duration_seconds_bucket')}[$__rate_interval])))`,
          '{{controller}} p99',
        ),
      ])
        .height(8)
        .span(12),
    )
    .withPanel(
      timeSeriesPanel('Work queue depth', 'Keys waiting for a worker, by controller.', 'none', [
        promQuery('A', `max by (controller) (${of('brewery_operator_workqueue_depth')})`, '{{controller}}'),
      ])
        .height(8)
        .span(12),
    )
    .withRow(new dashboard.RowBuilder('Objects'))
    .withPanel(
      timeSeriesPanel(
        'Objects by phase',
        'ImageNetDatasets and CaffeTrainingJobs by status.phase, as the leader sees them.',
        'none',
        [promQuery('A', `max by (kind, phase) (${of('brewery_operator_objects')})`, '{{kind}} {{phase}}')],
      )
        .height(8)
        .span(24),
    )
    .build();
}
