// Real Prometheus, configured with the chart's documented scrape configs, scrapes the operator the
// chart installs and a training `caffe train --metrics-port` pod on the local cluster; then every
// PromQL expression of both Grafana dashboards is evaluated and must return series that carry the
// labels its legend prints, so no panel is silently empty because of a name or label mismatch.
// The operator's disruption counter gets its series from a real eviction of a CaffeTrainingJob's
// trainer; its restart counter has series only after a trainer failure, so the Restarts panel falls
// back to 0 for each job the operator knows, and the metric is checked for presence in the
// operator's scrape. Then `hack/dashboards preview` draws both dashboards from what Prometheus holds.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import sharp from 'sharp';
import { parse } from 'yaml';

import { previewDashboards } from '../../../hack/grafana/preview.js';
import {
  loadDashboards,
  metricNames,
  type PanelQuery,
  panelQueries,
  panelsOf,
  variableQueries,
} from '../../../hack/grafana/queries.js';
import { type LocalCluster, localCluster, skipReason } from '../../support/cluster.js';
import { type ObjectStore, objectStore } from '../../support/object-store.js';
import { waitFor } from '../../support/wait.js';
import {
  buildRoot,
  fixture,
  freePort,
  installWithStoreSecret,
  kubectl,
  type Release,
  removeRelease,
  repositoryRoot,
  waitForLeader,
} from '../helm/support.js';
import { type Prometheus, startPrometheus } from './prometheus.js';

const SCRAPE_SECONDS = 1;
const PREVIEW_WIDTH = 1600;
/** Windows of several scrapes; $__range covers the whole test. */
const INTERVALS = { rateInterval: '30s', range: '10m' };
/** The job label of the test's own trainer pod. */
const TRAINING_JOB = 'tiny-metrics';
/** A CaffeTrainingJob the operator runs, whose trainer the test evicts. */
const EVICTED_JOB = 'tiny-evict';
const RESTARTS = 'brewery_operator_training_restarts_total';
const DISRUPTIONS = 'brewery_operator_training_disruptions_total';

const dashboardsDir = () => join(repositoryRoot(), 'charts/brewery/dashboards');
const trainerMetrics = join(buildRoot(), 'trainer/train/metrics.js');
const noTrainerMetrics = existsSync(trainerMetrics)
  ? undefined
  : `caffe train --metrics-port is not in this build yet (${trainerMetrics} is missing)`;
const trainingController = join(buildRoot(), 'operator/training/controller.js');
const noController = existsSync(trainingController)
  ? undefined
  : `the CaffeTrainingJob controller is not in this build yet (${trainingController} is missing)`;

/** The dashboards' variables as a user picks this test's objects: operator and jobs share a namespace. */
const selection = (namespace: string) => ({
  datasource: 'prometheus',
  namespace,
  job_name: `${TRAINING_JOB}|${EVICTED_JOB}`,
});

const tinyNet = () =>
  readFileSync(fixture('tiny-net.prototxt'), 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n');

/** Solver settings of a run that lasts until the test ends it. */
const LONG_RUN = [
  'base_lr: 0.01',
  'lr_policy: "fixed"',
  'momentum: 0.9',
  'max_iter: 100000000',
  'display: 100',
  'average_loss: 10',
  'test_iter: 1',
  'test_interval: 50',
  'test_compute_loss: true',
  // Often enough that a snapshot falls in the queries' rate windows while the test runs.
  'snapshot: 50',
  'solver_mode: CPU',
];

/** A solver with the tiny net inline (one file, so no path needs to resolve inside the pod). */
function tinySolver(): string {
  return [...LONG_RUN, 'snapshot_prefix: "tiny"', `net_param {\n${tinyNet()}\n}`].join('\n');
}

function trainingJob(namespace: string, snapshotURI: string): object {
  return {
    apiVersion: 'caffe.brewery.dev/v1alpha1',
    kind: 'CaffeTrainingJob',
    metadata: { name: EVICTED_JOB, namespace },
    spec: {
      net: { inline: tinyNet() },
      solver: { inline: LONG_RUN.join('\n') },
      snapshotURI,
      credentials: { secretName: 'object-store' },
      resources: { cpu: '1', memory: '1Gi' },
    },
  };
}

function trainerPod(namespace: string, port: number): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${TRAINING_JOB}-trainer`,
      namespace,
      // What the operator puts on its trainer pods, less managed-by: this pod is the test's own.
      labels: { 'app.kubernetes.io/name': 'caffe-trainer', 'caffe.brewery.dev/job': TRAINING_JOB },
    },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'trainer',
          image: 'ghcr.io/brewery-dev/trainer-cpu:test',
          command: ['caffe'],
          args: ['train', '--solver=/etc/caffe/solver.prototxt', `--metrics-port=${port}`],
          ports: [{ name: 'metrics', containerPort: port }],
          volumeMounts: [{ name: 'solver', mountPath: '/etc/caffe', readOnly: true }],
        },
      ],
      volumes: [{ name: 'solver', configMap: { name: 'tiny-solver' } }],
    },
  };
}

/** Why the query's answer would leave its panel empty or mislabelled, or undefined when it is fine. */
async function problemWith(prometheus: Prometheus, query: PanelQuery): Promise<string | undefined> {
  const series = await prometheus.query(query.expr);
  if (series.length === 0) return `${query.where}: no series for ${query.expr}`;
  // Grafana draws no point for NaN (a ratio of rates over a window without events).
  if (series.every((s) => !Number.isFinite(Number(s.value[1])))) {
    return `${query.where}: only NaN for ${query.expr}`;
  }
  for (const { metric } of series) {
    const missing = query.legendLabels.filter((label) => !(label in metric));
    if (missing.length) {
      return `${query.where}: series ${JSON.stringify(metric)} lack ${missing.join(', ')} that the legend prints`;
    }
  }
  return undefined;
}

describe('Prometheus over the chart and a trainer', { skip: skipReason ?? noTrainerMetrics }, () => {
  let cluster: LocalCluster;
  let store: ObjectStore;
  let prometheus: Prometheus;
  let release: Release;
  /** Whether the disruption counter has series (after the eviction test). */
  let disrupted = false;
  /** Unix milliseconds: where the preview's time range starts. */
  let startedAt = 0;

  before(async () => {
    startedAt = Date.now();
    cluster = localCluster();
    store = await objectStore();
    release = {
      name: 'brewery-prom',
      namespace: `prom-${randomBytes(3).toString('hex')}`,
      metricsPort: await freePort(),
    };
    await installWithStoreSecret(cluster, release, store);
    await waitForLeader(cluster, release);
    // A suspended dataset: the operator reconciles it and counts it by phase, and starts no pods.
    const example = parse(
      readFileSync(join(repositoryRoot(), 'crds/examples/imagenet-dataset.yaml'), 'utf8'),
    ) as { metadata: Record<string, string>; spec: Record<string, unknown> };
    example.metadata.namespace = release.namespace;
    example.spec.suspend = true;
    await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(example));
    await kubectl(cluster, [
      'create',
      'configmap',
      'tiny-solver',
      '-n',
      release.namespace,
      `--from-literal=solver.prototxt=${tinySolver()}`,
    ]);
    const pod = trainerPod(release.namespace, await freePort());
    await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(pod));
    prometheus = await startPrometheus(cluster.kubeconfigPath, SCRAPE_SECONDS);
  });

  after(async () => {
    await prometheus?.stop();
    const pod = `${TRAINING_JOB}-trainer`;
    await kubectl(cluster, ['delete', 'pod', pod, '-n', release.namespace, '--wait=false']).catch(
      () => undefined,
    );
    await removeRelease(cluster, release);
    await store?.stop();
  });

  test('Prometheus finds the operator and the trainer through pod discovery and scrapes them', async () => {
    for (const job of ['brewery-operator', 'caffe-trainer']) {
      const targets = await waitFor(
        `an up ${job} target in ${release.namespace}`,
        async () => {
          const found = (await prometheus.targets(job)).filter(
            (t) => t.labels.namespace === release.namespace && t.health === 'up',
          );
          return found.length > 0 ? found : undefined;
        },
        90,
        1000,
      );
      assert.ok(targets[0]?.labels.pod, `${job}: targets carry the pod label`);
    }
    const [iteration] = await prometheus.query(`caffe_iteration{namespace="${release.namespace}"}`);
    assert.equal(
      iteration?.metric.job_name,
      TRAINING_JOB,
      'the trainer series carry job_name from the pod label',
    );
  });

  test('an evicted trainer of a CaffeTrainingJob is counted as a disruption', {
    skip: noController,
  }, async () => {
    const bucket = await store.bucket('prom-it');
    const job = trainingJob(release.namespace, `${bucket}/${release.namespace}/${EVICTED_JOB}`);
    await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(job));
    const selector = `caffe.brewery.dev/job=${EVICTED_JOB}`;
    const pod = await waitFor(
      `a Running trainer pod of ${EVICTED_JOB}`,
      async () => {
        const names = await kubectl(cluster, [
          'get',
          'pods',
          '-n',
          release.namespace,
          '-l',
          selector,
          '--field-selector=status.phase=Running',
          '-o',
          'jsonpath={.items[*].metadata.name}',
        ]);
        return names.trim().split(' ')[0] || undefined;
      },
      120,
      1000,
    );
    const eviction = {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: pod, namespace: release.namespace },
    };
    const path = `/api/v1/namespaces/${release.namespace}/pods/${pod}/eviction`;
    await kubectl(cluster, ['create', '--raw', path, '-f', '-'], JSON.stringify(eviction));
    const series = await waitFor(
      `${DISRUPTIONS} in Prometheus after evicting ${pod}`,
      async () => {
        const found = await prometheus.query(`${DISRUPTIONS}{namespace="${release.namespace}"}`);
        return found.length > 0 ? found : undefined;
      },
      120,
      1000,
    );
    assert.ok(
      series.some((s) => Number(s.value[1]) >= 1),
      `expected a count of at least 1, received ${JSON.stringify(series)}`,
    );
    disrupted = true;
  });

  test('every dashboard query returns series with the labels its legend prints', async () => {
    const values = selection(release.namespace);
    const all = [
      ...panelQueries(dashboardsDir(), values, INTERVALS),
      ...variableQueries(dashboardsDir(), values),
    ];
    // Without the controller no job has a phase, so the Restarts panel's fallback has nothing to count.
    const waitsForEvents = (q: PanelQuery) =>
      metricNames(q.expr).some(
        (name) => (name === RESTARTS && noController) || (name === DISRUPTIONS && !disrupted),
      );
    const live = all.filter((q) => !waitsForEvents(q));
    assert.ok(live.length >= 20, `expected the dashboards' queries, found ${live.length}`);
    // Test passes, snapshots and rates need a few scrapes: wait until every query has its answer.
    let problems: string[] = [];
    await waitFor(
      'every dashboard query to return data',
      async () => {
        problems = [];
        for (const query of live) {
          const problem = await problemWith(prometheus, query);
          if (problem) problems.push(problem);
        }
        return problems.length === 0 ? true : undefined;
      },
      120,
      2000,
    ).catch(() => assert.fail(`dashboard queries without data:\n${problems.join('\n')}`));
  });

  test('the query over restarts is valid, and the operator declares the counters', async (t) => {
    const queries = panelQueries(dashboardsDir(), selection(release.namespace), INTERVALS).filter((q) =>
      metricNames(q.expr).some((name) => name === RESTARTS || name === DISRUPTIONS),
    );
    assert.equal(queries.length, 2, 'one panel query per counter');
    for (const query of queries) await prometheus.query(query.expr);
    if (noController) return t.todo(noController);
    assert.equal(await prometheus.hasMetadata('brewery-operator', 'brewery_operator_no_such_metric'), false);
    for (const metric of [RESTARTS, DISRUPTIONS]) {
      assert.ok(
        await prometheus.hasMetadata('brewery-operator', metric),
        `the operator's /metrics should declare ${metric} (HELP and TYPE) before any restart`,
      );
    }
  });

  test('hack/dashboards preview draws each dashboard as a PNG, every panel with data', {
    skip: noController,
  }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'brewery-preview-'));
    const waiting = disrupted ? [] : ['Disruptions by reason'];
    const emptyPanels = (preview: Awaited<ReturnType<typeof previewDashboards>>[number]) =>
      preview.panels
        .filter((p) => p.series === 0 || p.points === 0)
        .map((p) => p.title)
        .filter((t) => !waiting.includes(t));
    try {
      // A counter that has just appeared (the eviction's disruption) has one sample, and a range query's
      // increase() over it is empty until the next scrapes: draw again until every panel has data.
      const draw = () =>
        previewDashboards({
          prometheus: prometheus.url,
          dashboards: dashboardsDir(),
          out,
          from: startedAt,
          to: Date.now(),
          values: selection(release.namespace),
          scrapeIntervalSeconds: SCRAPE_SECONDS,
          width: PREVIEW_WIDTH,
        });
      let previews = await draw();
      await waitFor(
        'every panel of the preview to have data',
        async () => {
          if (previews.every((p) => emptyPanels(p).length === 0)) return true;
          previews = await draw();
          return undefined;
        },
        60,
        SCRAPE_SECONDS * 1000,
      ).catch(() => undefined); // the asserts below name the panels still empty
      const boards = loadDashboards(dashboardsDir());
      assert.deepEqual(
        previews.map((p) => p.file),
        boards.map((b) => b.file),
        'one picture per dashboard',
      );
      for (const [i, preview] of previews.entries()) {
        const titles = panelsOf(boards[i]!.dashboard).map((p) => p.title);
        assert.deepEqual(
          preview.panels.map((p) => p.title),
          titles,
          `${preview.file}: every panel is drawn`,
        );
        assert.deepEqual(emptyPanels(preview), [], `${preview.file}: panels without data`);
        const image = await sharp(preview.png).metadata();
        assert.equal(image.format, 'png', preview.png);
        assert.ok(
          (image.width ?? 0) >= PREVIEW_WIDTH && (image.height ?? 0) >= 400,
          `${preview.png}: expected at least ${PREVIEW_WIDTH}x400 pixels, received ${image.width}x${image.height}`,
        );
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
