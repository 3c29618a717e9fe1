// The operator at scale (issue 18): one ImageNetDataset of many shards prepared by an Indexed Job whose
// parallelism is below its shard count, while a thousand CaffeTrainingJobs arrive at once in three
// kinds that each hold still: suspended, pending (a GPU request no node can meet) and waiting for data
// (their dataset is suspended, so never Ready). The operator runs as its own process, as in the chart.
// Measured: time until every object's status reflects its generation and the phase it settles in;
// reconciles per second and per job (the operator's own counter); API calls per reconcile (the
// operator's counter of its calls, beside the apiserver's apiserver_request_total for all clients);
// peak RSS (VmHWM) of the operator and the kube-apiserver; the work queues' depth; and, once
// everything has settled, what a thousand resting jobs cost per second.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { DATASETS } from '../../operator/dataset/controller.js';
import type { KubeObject } from '../../operator/runtime/kube-client.js';
import { TRAINING_JOBS } from '../../operator/training/controller.js';
import { storageFor } from '../../trainer/storage/index.js';
import { generateSampleImagenet } from '../sample-imagenet.js';
import type { BenchCluster } from './operator-cluster.js';
import { tinyTrainingJob } from './operator-job.js';
import {
  clusterPid,
  type OperatorProcess,
  parsePrometheusText,
  processCpuSeconds,
  processMemory,
  type Scrape,
  startOperatorProcess,
  sumOf,
} from './operator-process.js';
import { jobStatus, WatchedObjects } from './operator-watch.js';

export const KINDS = ['suspended', 'pending', 'waiting'] as const;
type Kind = (typeof KINDS)[number];

export interface ScaleOptions {
  cluster: BenchCluster;
  dist: string;
  namespace: string;
  bucket: string;
  jobs: number;
  shards: number;
  parallelism: number;
  /** Seconds to watch the settled jobs at rest. */
  restSeconds: number;
  log: (line: string) => void;
}

const CONTROLLERS = ['imagenetdataset', 'caffetrainingjob'] as const;
const SETTLE_TIMEOUT_MS = 900_000;
const CREATES_IN_FLIGHT = 32;
const DATASET = 'imagenet-scale';
const HELD_DATASET = 'imagenet-held';

export async function measureScale(options: ScaleOptions) {
  const { cluster, namespace, log } = options;
  const { client } = cluster;
  for (const [k, v] of Object.entries(cluster.env)) if (k.startsWith('AWS_')) process.env[k] = v;
  const raw = `${options.bucket}/scale-raw`;
  log(`staging a sample tree of tiny images at ${raw}`);
  const tree = await stageSample(raw, options.shards);

  const operator = await startOperatorProcess(
    cluster,
    options.dist,
    join(cluster.dir, 'logs', 'bench-operator.log'),
  );
  const apiserverPid = clusterPid(cluster, 'kube-apiserver');
  const apiserverBefore = processMemory(apiserverPid);
  const datasets = await WatchedObjects.start(client, DATASETS, namespace);
  const jobs = await WatchedObjects.start(client, TRAINING_JOBS, namespace);
  const depth = trackQueueDepth(operator);
  try {
    const before = await operator.scrape();
    const apiBefore = await apiserverRequests(cluster);
    const cpuBefore = processCpuSeconds(operator.pid);
    const names = Array.from({ length: options.jobs }, (_, i) => `job-${String(i).padStart(4, '0')}`);
    const kindOf = (i: number): Kind => KINDS[i % KINDS.length]!;
    const datasetReady = datasets.when(
      `${DATASET} to be Ready`,
      (objects) => jobStatus(objects.get(DATASET)).phase === 'Ready',
      SETTLE_TIMEOUT_MS,
    );
    const jobsSettled = jobs.when(
      `all ${names.length} jobs to settle`,
      (objects) => names.every((name, i) => isSettled(kindOf(i), objects.get(name))),
      SETTLE_TIMEOUT_MS,
    );
    const startedAt = Date.now();
    const source = {
      uri: raw,
      valLabels: relative(tree.root, tree.valLabels),
      words: relative(tree.root, tree.words),
    };
    await client.create(DATASETS, namespace, dataset(DATASET, source, options, false));
    await client.create(DATASETS, namespace, dataset(HELD_DATASET, source, options, true));
    await inBatches(names, CREATES_IN_FLIGHT, (name, i) =>
      client.create(TRAINING_JOBS, namespace, jobFor(kindOf(i), name, options)),
    );
    const createdAt = Date.now();
    log(`created 2 datasets and ${names.length} jobs in ${((createdAt - startedAt) / 1000).toFixed(1)} s`);
    const jobsSettledAt = await jobsSettled;
    log(`all jobs settled after ${((jobsSettledAt - startedAt) / 1000).toFixed(1)} s`);
    const readyAt = await datasetReady;
    log(`${DATASET} Ready after ${((readyAt - startedAt) / 1000).toFixed(1)} s`);
    const drainedAt = await depth.untilEmpty(SETTLE_TIMEOUT_MS);
    const settledAt = Math.max(jobsSettledAt, readyAt);
    const busy = await operator.scrape();
    const apiBusy = await apiserverRequests(cluster);
    const cpuBusy = processCpuSeconds(operator.pid);

    // At rest: nothing changes, so whatever the operator does now is the standing cost of the jobs.
    log(`watching the settled objects for ${options.restSeconds} s`);
    await sleep(options.restSeconds * 1000);
    const rest = await operator.scrape();
    const apiRest = await apiserverRequests(cluster);
    const cpuRest = processCpuSeconds(operator.pid);

    // The apiserver's own record of every job and dataset, not the benchmark's watch.
    const listed = [
      ...(await client.list(TRAINING_JOBS)).items,
      ...(await client.list(DATASETS)).items,
    ].filter((o) => o.metadata?.namespace === namespace);
    const stale = listed.filter(
      (o) => jobStatus(o).observedGeneration !== o.metadata?.generation || !jobStatus(o).phase,
    );
    const phases: Record<string, number> = {};
    for (const o of listed) {
      const key = `${o.kind} ${jobStatus(o).phase ?? 'none'}`;
      phases[key] = (phases[key] ?? 0) + 1;
    }
    const settleSeconds = (settledAt - startedAt) / 1000;
    const busyReconciles = reconcileCounts(before, busy);
    const restReconciles = reconcileCounts(busy, rest);
    const busyCalls = apiCalls(before, busy);
    const restCalls = apiCalls(busy, rest);
    const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    return {
      jobs: options.jobs,
      kinds: Object.fromEntries(KINDS.map((k) => [k, names.filter((_, i) => kindOf(i) === k).length])),
      shards: options.shards,
      parallelism: options.parallelism,
      createSeconds: (createdAt - startedAt) / 1000,
      jobsSettledSeconds: (jobsSettledAt - startedAt) / 1000,
      datasetReadySeconds: (readyAt - startedAt) / 1000,
      queueEmptySeconds: (drainedAt - startedAt) / 1000,
      maxQueueDepth: depth.max,
      busy: {
        seconds: settleSeconds,
        reconciles: busyReconciles,
        reconcilesPerSecond: total(busyReconciles) / settleSeconds,
        reconcileErrors: errorsBetween(before, busy),
        apiCalls: busyCalls,
        apiCallsPerReconcile: total(busyCalls) / total(busyReconciles),
        apiserverRequests: apiBusy - apiBefore,
        operatorCpuSeconds: cpuBusy - cpuBefore,
      },
      rest: {
        seconds: options.restSeconds,
        reconcilesPerSecond: total(restReconciles) / options.restSeconds,
        reconciles: restReconciles,
        apiCallsPerSecond: total(restCalls) / options.restSeconds,
        apiCalls: restCalls,
        apiserverRequestsPerSecond: (apiRest - apiBusy) / options.restSeconds,
        operatorCpuPercent: ((cpuRest - cpuBusy) / options.restSeconds) * 100,
      },
      statusCurrent: listed.length - stale.length,
      statusStale: stale.map((o) => o.metadata?.name),
      objects: listed.length,
      phases,
      watchRestarts: jobs.restarts + datasets.restarts,
      operator: processMemory(operator.pid),
      apiserver: { ...processMemory(apiserverPid), rssBeforeMiB: apiserverBefore.rssMiB },
    };
  } finally {
    depth.stop();
    jobs.stop();
    datasets.stop();
    await operator.stop();
    rmSync(tree.root, { recursive: true, force: true });
  }
}

export type ScaleResult = Awaited<ReturnType<typeof measureScale>>;

/** Tiny images, two train and one val image per shard, uploaded to `raw`. */
async function stageSample(raw: string, shards: number) {
  const root = mkdtempSync(join(tmpdir(), 'brewery-bench-scale-'));
  const classes = 16;
  const tree = await generateSampleImagenet({
    out: root,
    classes,
    perClass: Math.ceil((2 * shards) / classes),
    valPerClass: Math.ceil(shards / classes),
    seed: 18,
    width: 24,
    height: 20,
    brokenPerKind: 0,
  });
  const files = await storageFor(root).list(root);
  await inBatches(files, 16, (file) =>
    storageFor(raw).putFile(file.uri, `${raw}/${relative(root, file.uri)}`),
  );
  return { ...tree, root };
}

function dataset(
  name: string,
  source: { uri: string; valLabels: string; words: string },
  options: ScaleOptions,
  suspend: boolean,
): KubeObject {
  return {
    apiVersion: 'caffe.brewery.dev/v1alpha1',
    kind: 'ImageNetDataset',
    metadata: { name, namespace: options.namespace },
    spec: {
      source: { uri: source.uri },
      valLabels: source.valLabels,
      words: source.words,
      output: `${options.bucket}/scale-out/${name}`,
      size: 16,
      shards: options.shards,
      parallelism: options.parallelism,
      credentials: { secretName: 'object-store' },
      worker: { resources: { cpu: '250m', memory: '512Mi' } },
      suspend,
    },
  };
}

function jobFor(kind: Kind, name: string, options: ScaleOptions): KubeObject {
  const common = {
    snapshotURI: `${options.bucket}/scale-snap/${name}/snap`,
    resources: { cpu: '100m', memory: '64Mi' },
  };
  const out = `${options.bucket}/scale-out/${DATASET}`;
  const data = { trainSource: `${out}/train`, meanFile: `${out}/mean.binaryproto` };
  if (kind === 'suspended')
    return tinyTrainingJob(name, options.namespace, { ...common, data, suspend: true });
  // More GPUs than any node has: the scheduler leaves the pod Pending.
  if (kind === 'pending')
    return tinyTrainingJob(name, options.namespace, {
      ...common,
      data,
      resources: { ...common.resources, gpus: 8 },
    });
  return tinyTrainingJob(name, options.namespace, { ...common, dataset: { name: HELD_DATASET } });
}

function isSettled(kind: Kind, job: KubeObject | undefined): boolean {
  const status = jobStatus(job);
  if (status.observedGeneration !== job?.metadata?.generation) return false;
  const running = status.conditions?.find((c) => c.type === 'Running');
  if (kind === 'suspended') return status.phase === 'Suspended';
  if (kind === 'pending') return status.phase === 'Pending' && running?.reason === 'Unschedulable';
  return status.phase === 'WaitingForData';
}

function reconcileCounts(from: Scrape, to: Scrape): Record<string, number> {
  const name = 'brewery_operator_reconciles_total';
  return Object.fromEntries(
    CONTROLLERS.map((c) => [c, sumOf(to, name, { controller: c }) - sumOf(from, name, { controller: c })]),
  );
}

function errorsBetween(from: Scrape, to: Scrape): number {
  const name = 'brewery_operator_reconciles_total';
  return sumOf(to, name, { result: 'error' }) - sumOf(from, name, { result: 'error' });
}

/** The operator's API calls between two scrapes, by "verb resource". */
function apiCalls(from: Scrape, to: Scrape): Record<string, number> {
  const name = 'brewery_operator_api_requests_total';
  const counts: Record<string, number> = {};
  for (const s of to.get(name) ?? []) {
    const key = `${s.labels.verb} ${s.labels.resource}`;
    const was = sumOf(from, name, s.labels);
    if (s.value - was > 0) counts[key] = (counts[key] ?? 0) + s.value - was;
  }
  return counts;
}

/** Every request the apiserver has served, from all clients (its apiserver_request_total). */
async function apiserverRequests(cluster: BenchCluster): Promise<number> {
  return sumOf(
    parsePrometheusText(await cluster.kubectl(['get', '--raw', '/metrics'])),
    'apiserver_request_total',
  );
}

/** Polls the operator's work queue depth every second: the most seen, and when both queues were empty. */
function trackQueueDepth(operator: OperatorProcess) {
  let max = 0;
  let stopped = false;
  let last = Number.POSITIVE_INFINITY;
  const poll = async () => {
    while (!stopped) {
      try {
        last = sumOf(await operator.scrape(), 'brewery_operator_workqueue_depth');
        max = Math.max(max, last);
      } catch {
        // the operator is stopping
      }
      await sleep(1000);
    }
  };
  void poll();
  return {
    get max() {
      return max;
    },
    async untilEmpty(timeoutMs: number): Promise<number> {
      const deadline = Date.now() + timeoutMs;
      while (last !== 0) {
        if (Date.now() > deadline)
          throw new Error(`the work queues still held ${last} keys after ${timeoutMs / 1000} s`);
        await sleep(200);
      }
      return Date.now();
    },
    stop() {
      stopped = true;
    },
  };
}

async function inBatches<T>(
  items: T[],
  inFlight: number,
  work: (item: T, index: number) => Promise<unknown>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}
