// The training dashboard: what a person training CaffeNet watches. Progress and phase, loss (on a log
// axis) and test accuracy by test net, learning rate, speed, snapshots, and the restarts and
// disruptions the operator counts. Metrics: trainer/train/metrics.ts (caffe_*) and
// operator/runtime/metrics.ts (brewery_operator_*); labels: charts/brewery/prometheus/scrape-configs.yaml.
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';

import {
  breweryDashboard,
  DATASOURCE,
  labelVariable,
  logScale,
  promQuery,
  selector,
  statPanel,
  tableQuery,
  timeSeriesPanel,
} from './panels.js';

const VARIABLES = ['namespace', 'job_name'];
const of = (metric: string, ...matchers: string[]) => selector(metric, VARIABLES, ...matchers);
/** Trainer series are per pod; a job resumed in a new pod stays one line, aggregated by job. */
const JOB = 'namespace, job_name';

export function trainingDashboard(): dashboard.Dashboard {
  return breweryDashboard(
    'Brewery / Training',
    'brewery-training',
    'Live training of CaffeTrainingJobs: progress and phase, loss, accuracy, learning rate, speed, snapshots, restarts and disruptions.',
    ['brewery', 'caffe'],
  )
    .withVariable(labelVariable('namespace', 'Namespace', 'label_values(caffe_iteration, namespace)'))
    .withVariable(
      labelVariable('job_name', 'Job', 'label_values(caffe_iteration{namespace=~"$namespace"}, job_name)'),
    )
    .withRow(new dashboard.RowBuilder('Progress'))
    .withPanel(
      statPanel(
        'Iteration',
        "Latest iteration of each job's trainer.",
        'none',
        promQuery('A', `max by (${JOB}) (${of('caffe_iteration')})`, '{{job_name}}'),
      )
        .height(6)
        .span(4),
    )
    .withPanel(
      new bargauge.PanelBuilder()
        .title('Progress')
        .description("The latest iteration out of the solver's max_iter.")
        .datasource(DATASOURCE)
        .unit('percentunit')
        .min(0)
        .max(1)
        .orientation(common.VizOrientation.Horizontal)
        .displayMode(common.BarGaugeDisplayMode.Gradient)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
        .withTarget(
          promQuery(
            'A',
            `max by (${JOB}) (${of('caffe_iteration')}) / max by (${JOB}) (${of('caffe_max_iter')})`,
            '{{job_name}}',
          ),
        )
        .height(6)
        .span(8),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Nets')
        .description('What each trainer runs: net, solver type and compute backend.')
        .datasource(DATASOURCE)
        .withTarget(
          // Over the whole time range, so a job that has finished is listed too.
          tableQuery(
            'A',
            `max by (${JOB}, net, solver_type, backend) (max_over_time(${of('caffe_training_info')}[$__range]))`,
          ),
        )
        .height(6)
        .span(12),
    )
    .withPanel(
      new statetimeline.PanelBuilder()
        .title('Phase')
        .description(
          "Each job's status.phase over time, as the operator sees it: Pending, WaitingForData, Running, Restarting, Suspended, Succeeded or Failed.",
        )
        .datasource(DATASOURCE)
        .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.PaletteClassic))
        .showValue(common.VisibilityMode.Never)
        .withTarget(
          promQuery(
            'A',
            `max by (${JOB}, phase) (${of('brewery_operator_training_job_phase')}) > 0`,
            '{{job_name}} {{phase}}',
          ),
        )
        .height(5)
        .span(24),
    )
    .withRow(new dashboard.RowBuilder('Loss and accuracy'))
    .withPanel(
      timeSeriesPanel(
        'Train loss',
        "Loss of the latest iteration and Caffe's smoothed loss (the mean over the solver's average_loss iterations), on a log axis.",
        'none',
        [
          promQuery('A', `max by (${JOB}) (${of('caffe_train_loss')})`, '{{job_name}} loss'),
          promQuery('B', `max by (${JOB}) (${of('caffe_train_loss_smoothed')})`, '{{job_name}} smoothed'),
        ],
      )
        .scaleDistribution(logScale())
        .height(8)
        .span(12),
    )
    .withPanel(
      timeSeriesPanel(
        'Test accuracy',
        'Accuracy outputs of each test net at its latest test pass (Test net output #N in the log).',
        'percentunit',
        [
          promQuery(
            'A',
            `max by (${JOB}, test_net, output) (${of('caffe_test_output', 'output=~".*accuracy.*"')})`,
            '{{job_name}} net {{test_net}} {{output}}',
          ),
        ],
      )
        .min(0)
        .max(1)
        .height(8)
        .span(12),
    )
    .withPanel(
      timeSeriesPanel(
        'Test loss',
        'Loss outputs of each test net at its latest test pass (Test net output #N: loss in the log), on a log axis.',
        'none',
        [
          promQuery(
            'A',
            `max by (${JOB}, test_net, output) (${of('caffe_test_output', 'output=~".*loss.*"')})`,
            '{{job_name}} net {{test_net}} {{output}}',
          ),
        ],
      )
        .scaleDistribution(logScale())
        .height(8)
        .span(12),
    )
    .withPanel(
      timeSeriesPanel('Learning rate', "The solver's learning rate, its lr_policy applied.", 'none', [
        promQuery('A', `max by (${JOB}) (${of('caffe_learning_rate')})`, '{{job_name}}'),
      ])
        .height(8)
        .span(12),
    )
    .withRow(new dashboard.RowBuilder('Speed'))
    .withPanel(
      timeSeriesPanel('Images per second', "Training throughput of each job's trainer.", 'suffix: img/s', [
        promQuery('A', `sum by (${JOB}) (${of('caffe_images_per_second')})`, '{{job_name}}'),
      ])
        .height(8)
        .span(12),
    )
    .withPanel(
      timeSeriesPanel(
        'Time per iteration',
        'Median and 90th percentile time of one iteration (forward, backward and update).',
        's',
        [0.5, 0.9].map((q, i) =>
          promQuery(
            String.fromCharCode(65 + i),
            `histogram_quantile(${q}, sum by (${JOB}, le) (rate(${of('caffe_iteration_duration_seconds_bucket')}[$__rate_interval])))`,
            `{{job_name}} p${q * 100}`,
          ),
        ),
      )
        .height(8)
        .span(12),
    )
    .withPanel(
      timeSeriesPanel(
        'Share of time waiting for data',
        'Part of the training time each trainer spent waiting for its data loader (caffe_data_wait_seconds ' +
          'over caffe_iteration_duration_seconds); near 0 when the loader keeps batches ready ahead.',
        'percentunit',
        [
          promQuery(
            'A',
            `sum by (${JOB}) (rate(${of('caffe_data_wait_seconds_sum')}[$__rate_interval])) / sum by (${JOB}) (rate(${of('caffe_iteration_duration_seconds_sum')}[$__rate_interval]))`,
            '{{job_name}}',
          ),
        ],
      )
        .height(8)
        .span(24),
    )
    .withRow(new dashboard.RowBuilder('Snapshots, restarts and disruptions'))
    .withPanel(
      timeSeriesPanel(
        'Snapshots',
        'Snapshots (caffemodel, solverstate, progress record) written by the current trainer pod.',
        'none',
        [promQuery('A', `max by (${JOB}) (${of('caffe_snapshots_total')})`, '{{job_name}}')],
      )
        .height(8)
        .span(6),
    )
    .withPanel(
      timeSeriesPanel(
        'Snapshot duration',
        'Mean time to write a snapshot; points only where a snapshot was taken.',
        's',
        [
          promQuery(
            'A',
            `sum by (${JOB}) (rate(${of('caffe_snapshot_duration_seconds_sum')}[$__rate_interval])) / sum by (${JOB}) (rate(${of('caffe_snapshot_duration_seconds_count')}[$__rate_interval]))`,
            '{{job_name}}',
          ),
        ],
      )
        .height(8)
        .span(6),
    )
    .withPanel(
      timeSeriesPanel(
        'Restarts',
        'Trainer restarts after the trainer itself failed, counted against spec.restartPolicy.maxRestarts; 0 for a job with none.',
        'none',
        [
          // The operator counts a job's restarts from its first one: before that, 0 for each training job.
          promQuery(
            'A',
            `sum by (${JOB}) (${of('brewery_operator_training_restarts_total')}) or max by (${JOB}) (${of('brewery_operator_training_job_phase')}) * 0`,
            '{{job_name}}',
          ),
        ],
      )
        .height(8)
        .span(6),
    )
    .withPanel(
      timeSeriesPanel(
        'Disruptions by reason',
        'Preemptions, evictions and node losses, counted against spec.restartPolicy.maxDisruptions.',
        'none',
        [
          promQuery(
            'A',
            `sum by (${JOB}, reason) (${of('brewery_operator_training_disruptions_total')})`,
            '{{job_name}} {{reason}}',
          ),
        ],
      )
        .height(8)
        .span(6),
    )
    .build();
}
