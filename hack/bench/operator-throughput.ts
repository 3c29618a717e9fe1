// Reconcile throughput: many CaffeTrainingJobs created at once, timed until every one shows the status
// it should settle in, with the training controller's reconciles (count, rate, duration quantiles from
// its histogram) and this process's peak memory over that span; then all deleted, timed until the jobs
// and their children are gone.
//   suspended      spec.suspend: true; no children; each settles in phase Suspended.
//   unschedulable  a nodeSelector no node has; each gets a ConfigMap, Service and Pod, and settles in
//                  phase Pending with the Running condition's reason Unschedulable (the scheduler's words).
import { setTimeout as sleep } from 'node:timers/promises';

import type { KubeObject } from '../../operator/runtime/kube-client.js';
import type { OperatorMetrics } from '../../operator/runtime/metrics.js';
import { TRAINING_JOBS } from '../../operator/training/controller.js';
import { CONFIG_MAPS, MANAGED_BY, PODS, SERVICES } from '../../operator/workloads.js';
import type { BenchCluster } from './operator-cluster.js';
import { tinyTrainingJob } from './operator-job.js';
import {
  histogramQuantile,
  readingDelta,
  readReconciles,
  samplePeakMemory,
  totalReconciles,
} from './operator-stats.js';
import { jobStatus, WatchedObjects } from './operator-watch.js';

export const VARIANTS = ['suspended', 'unschedulable'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface ThroughputResult {
  variant: Variant;
  jobs: number;
  /** The create calls, all in flight at once. */
  createSeconds: number;
  /** From the first create call until every job showed its settled status. */
  settleSeconds: number;
  reconciles: number;
  reconcileErrors: number;
  reconcilesPerSecond: number;
  reconcilesPerJob: number;
  p50ReconcileMs: number;
  p99ReconcileMs: number;
  meanReconcileMs: number;
  /** This process (operator and benchmark) while the jobs were created and settled. */
  peakRssMiB: number;
  peakHeapUsedMiB: number;
  cpuSeconds: number;
  /** From the delete calls until no job is left. */
  deleteSeconds: number;
  /** From the delete calls until no Pod, Service or ConfigMap of theirs is left. */
  childrenGoneSeconds: number;
  /** How often the benchmark's own watch of the jobs was ended by the apiserver and started again. */
  watchRestarts: number;
  /** One settled job's Running condition message, as a user would read it. */
  sampleMessage: string;
}

export interface ThroughputOptions {
  cluster: BenchCluster;
  metrics: OperatorMetrics;
  namespace: string;
  variant: Variant;
  jobs: number;
  data: { trainSource: string; meanFile: string };
  snapshotRoot: string;
}

const CONTROLLER = 'caffetrainingjob';
const SETTLE_TIMEOUT_MS = 300_000;

export async function measureThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const { cluster, namespace, variant, jobs: count } = options;
  const { client } = cluster;
  const names = Array.from({ length: count }, (_, i) => `${variant}-${String(i).padStart(3, '0')}`);
  const watched = await WatchedObjects.start(client, TRAINING_JOBS, namespace);
  try {
    const before = await readReconciles(options.metrics, CONTROLLER);
    const stopSampling = samplePeakMemory();
    const cpuBefore = process.cpuUsage();
    const settled = watched.when(
      `all ${count} ${variant} jobs to settle`,
      (objects) => names.every((name) => isSettled(variant, objects.get(name))),
      SETTLE_TIMEOUT_MS,
    );
    const startedAt = Date.now();
    await Promise.all(names.map((name) => client.create(TRAINING_JOBS, namespace, jobFor(options, name))));
    const createdAt = Date.now();
    const settledAt = await settled;
    const cpu = process.cpuUsage(cpuBefore);
    const memory = stopSampling();
    const delta = readingDelta(before, await readReconciles(options.metrics, CONTROLLER));
    const seconds = (settledAt - startedAt) / 1000;
    const reconciles = totalReconciles(delta);
    const running = jobStatus(watched.objects.get(names[0]!)).conditions?.find((c) => c.type === 'Running');

    const deleteStart = Date.now();
    const gone = watched.when(
      `all ${variant} jobs to be gone`,
      (objects) => objects.size === 0,
      SETTLE_TIMEOUT_MS,
    );
    await Promise.all(names.map((name) => client.delete(TRAINING_JOBS, namespace, name)));
    const goneAt = await gone;
    const childrenGoneAt = await childrenGone(options);
    return {
      variant,
      jobs: count,
      createSeconds: (createdAt - startedAt) / 1000,
      settleSeconds: seconds,
      reconciles,
      reconcileErrors: delta.byResult.error ?? 0,
      reconcilesPerSecond: reconciles / seconds,
      reconcilesPerJob: reconciles / count,
      p50ReconcileMs: histogramQuantile(0.5, delta.buckets) * 1000,
      p99ReconcileMs: histogramQuantile(0.99, delta.buckets) * 1000,
      meanReconcileMs: reconciles ? (delta.sumSeconds / reconciles) * 1000 : Number.NaN,
      peakRssMiB: memory.rssMiB,
      peakHeapUsedMiB: memory.heapUsedMiB,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      deleteSeconds: (goneAt - deleteStart) / 1000,
      childrenGoneSeconds: (childrenGoneAt - deleteStart) / 1000,
      watchRestarts: watched.restarts,
      sampleMessage: `${running?.reason ?? '?'}: ${running?.message ?? ''}`,
    };
  } finally {
    watched.stop();
  }
}

function jobFor(options: ThroughputOptions, name: string): KubeObject {
  const common = {
    data: options.data,
    snapshotURI: `${options.snapshotRoot}/${name}/snap`,
    resources: { cpu: '100m', memory: '64Mi' },
  };
  if (options.variant === 'suspended')
    return tinyTrainingJob(name, options.namespace, { ...common, suspend: true });
  return tinyTrainingJob(name, options.namespace, {
    ...common,
    nodeSelector: { 'brewery.dev/bench': 'no-such-node' },
  });
}

function isSettled(variant: Variant, job: KubeObject | undefined): boolean {
  const status = jobStatus(job);
  if (variant === 'suspended') return status.phase === 'Suspended';
  const running = status.conditions?.find((c) => c.type === 'Running');
  return status.phase === 'Pending' && running?.reason === 'Unschedulable';
}

/** Polls until the namespace holds no Pod, Service or ConfigMap the operator made; returns when. */
async function childrenGone(options: ThroughputOptions): Promise<number> {
  const { client } = options.cluster;
  const labelSelector = Object.entries(MANAGED_BY)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    let left = 0;
    for (const resource of [PODS, SERVICES, CONFIG_MAPS]) {
      const { items } = await client.list(resource, { labelSelector });
      left += items.filter((o) => o.metadata?.namespace === options.namespace).length;
    }
    if (left === 0) return Date.now();
    if (Date.now() > deadline) {
      throw new Error(`${left} children of the ${options.variant} jobs were still there after 300s`);
    }
    await sleep(200);
  }
}
