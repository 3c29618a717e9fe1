// Puts the operator together: informers, controllers, leader election and metrics. Everything it
// talks to is passed in, so the integration tests run two of them against one cluster.
import type { Logger } from 'pino';

import { DATASETS, datasetReconciler } from './dataset/controller.js';
import { JOBS, MANAGED_BY } from './dataset/jobs.js';
import type { Clock } from './runtime/clock.js';
import { Controller } from './runtime/controller.js';
import type { EventRecorder } from './runtime/events.js';
import { Informer } from './runtime/informer.js';
import type { KubeClient } from './runtime/kube-client.js';
import { LeaderElector } from './runtime/leader-election.js';
import type { OperatorMetrics } from './runtime/metrics.js';
import { TRAINING_JOBS, trainingReconciler } from './training/controller.js';
import { type ProgressRoute, TRAINER_LABELS } from './training/objects.js';
import { PODS } from './workloads.js';

export interface OperatorOptions {
  client: KubeClient;
  clock: Clock;
  log: Logger;
  metrics: OperatorMetrics;
  events: EventRecorder;
  /** Image with the `caffe` command for pods whose object names none. */
  trainerImage: string;
  /** A node folder GPU trainer pods keep CUDA's compilation cache in (`--cuda-cache-host-path`). */
  cudaCacheHostPath?: string;
  /** Where trainer and finalize pods report (the endpoint operator/progress/server.ts serves). */
  progress?: ProgressRoute;
  /** Unique name of this instance (pod name), the lease holder identity. */
  identity: string;
  /** Leader election on the Lease namespace/name; off when undefined (one instance only). */
  lease?: {
    namespace: string;
    name: string;
    durationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  relistIntervalMs?: number;
}

export const DEFAULT_LEASE_NAME = 'brewery-operator';
/** Concurrent reconciles of CaffeTrainingJobs (controller-runtime's MaxConcurrentReconciles). */
export const TRAINING_WORKERS = 8;

/** Runs until the signal aborts ('stopped') or leadership is lost ('lost': exit, like client-go). */
export async function runOperator(
  options: OperatorOptions,
  signal: AbortSignal,
): Promise<'stopped' | 'lost'> {
  const { lease, metrics } = options;
  if (!lease) {
    // The one instance leads: dashboards count leaders the same way with election on or off.
    metrics.leader.set(1);
    await runControllers(options, signal);
    return 'stopped';
  }
  const elector = new LeaderElector({
    client: options.client,
    clock: options.clock,
    log: options.log,
    identity: options.identity,
    namespace: lease.namespace,
    name: lease.name,
    ...(lease.durationMs ? { leaseDurationMs: lease.durationMs } : {}),
    ...(lease.renewDeadlineMs ? { renewDeadlineMs: lease.renewDeadlineMs } : {}),
    ...(lease.retryPeriodMs ? { retryPeriodMs: lease.retryPeriodMs } : {}),
  });
  metrics.onCollect(() => metrics.leader.set(elector.isLeader ? 1 : 0));
  options.log.info(
    { identity: options.identity, lease: `${lease.namespace}/${lease.name}` },
    'waiting to lead',
  );
  return elector.run(signal, (leading) => runControllers(options, leading));
}

/** Informers and controllers, from start to a graceful stop when the signal aborts. */
export async function runControllers(options: OperatorOptions, signal: AbortSignal): Promise<void> {
  const { client, clock, log, metrics, relistIntervalMs } = options;
  const common = { client, clock, log, ...(relistIntervalMs ? { relistIntervalMs } : {}) };
  const datasets = new Informer({ ...common, resource: DATASETS });
  const jobs = new Informer({
    ...common,
    resource: JOBS,
    labelSelector: selector(MANAGED_BY),
  });
  const trainingJobs = new Informer({ ...common, resource: TRAINING_JOBS });
  const pods = new Informer({ ...common, resource: PODS, labelSelector: selector(TRAINER_LABELS) });
  const informers = [datasets, jobs, trainingJobs, pods];
  metrics.onCollect(() => {
    for (const informer of informers) {
      metrics.informerErrors.set({ resource: informer.resource.plural }, informer.errors);
    }
    metrics.objectsByPhase.reset();
    for (const primary of [datasets, trainingJobs]) {
      for (const object of primary.list()) {
        const phase = (object.status as { phase?: string } | undefined)?.phase ?? 'None';
        metrics.objectsByPhase.inc({ kind: primary.resource.kind, phase });
      }
    }
    // Each job's own phase, so a dashboard can draw it over time (a job that is gone drops out).
    metrics.trainingJobPhase.reset();
    for (const job of trainingJobs.list()) {
      const phase = (job.status as { phase?: string } | undefined)?.phase ?? 'None';
      const { namespace = '', name = '' } = job.metadata ?? {};
      metrics.trainingJobPhase.set({ namespace, job_name: name, phase }, 1);
    }
  });
  const controllers = [
    new Controller({
      name: 'imagenetdataset',
      primary: datasets,
      owned: [jobs],
      reconcile: datasetReconciler({
        client,
        clock,
        events: options.events,
        jobs,
        defaults: {
          trainerImage: options.trainerImage,
          ...(options.progress ? { progress: options.progress } : {}),
        },
      }),
      clock,
      log,
      metrics,
    }),
    new Controller({
      name: 'caffetrainingjob',
      primary: trainingJobs,
      // A reconcile mostly waits on the apiserver (a few calls in a row); with a thousand jobs arriving at
      // once, two workers left them queued for minutes. Keys are never shared between workers.
      workers: TRAINING_WORKERS,
      owned: [pods],
      reconcile: trainingReconciler({
        client,
        clock,
        events: options.events,
        pods,
        trainingJobs,
        trainerImage: options.trainerImage,
        ...(options.cudaCacheHostPath ? { cudaCacheHostPath: options.cudaCacheHostPath } : {}),
        ...(options.progress ? { progress: options.progress } : {}),
        metrics,
      }),
      clock,
      log,
      metrics,
    }),
  ];
  for (const informer of informers) informer.start();
  try {
    await Promise.all(controllers.map((controller) => controller.run(signal)));
  } finally {
    await Promise.all(informers.map((informer) => informer.stop()));
  }
}

function selector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
