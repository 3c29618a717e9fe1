// The CaffeTrainingJob controller: get the job → gather its trainer pod, data, prototxts and the jobs
// claiming its prefix (never the object store: progress comes from the trainer's reports) → decide
// (decide.ts) → create or stop pods → write status when it
// changed → release ended pods whose end is now on record → Events and metrics.

import { z } from 'zod';
import {
  CaffeTrainingJobSpec,
  CaffeTrainingJobStatus,
  TRAINING_JOB_KIND,
  TRAINING_JOB_PLURAL,
} from '../api/caffe-training-job.js';
import { GROUP, VERSION } from '../api/common.js';
import { kueueInstalled, LOCAL_QUEUES, workloadOf } from '../kueue.js';
import type { Clock } from '../runtime/clock.js';
import { statusChanged } from '../runtime/conditions.js';
import type { Reconciler } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import { type Informer, splitKey } from '../runtime/informer.js';
import {
  httpStatusOf,
  isAlreadyExists,
  isNotFound,
  type KubeClient,
  type KubeObject,
  type Resource,
} from '../runtime/kube-client.js';
import type { OperatorMetrics } from '../runtime/metrics.js';
import { CONFIG_MAPS, PODS, SERVICES } from '../workloads.js';
import { decideTraining, type KueueState, type TrainingAction, type TrainingInput } from './decide.js';
import {
  configMapName,
  JOB_LABEL,
  type JobRef,
  metricsService,
  type ProgressRoute,
  prototxtConfigMap,
  snapshotPrefixOf,
  TRACKING_FINALIZER,
  trainerPod,
} from './objects.js';
import { viewTrainerPod } from './pod-end.js';
import { type PrefixClaimant, prefixClaim } from './prefix-claim.js';
import { dataFor, prototxtsFor } from './sources.js';

export const TRAINING_JOBS: Resource = {
  group: GROUP,
  version: VERSION,
  plural: TRAINING_JOB_PLURAL,
  kind: TRAINING_JOB_KIND,
};

export interface TrainingControllerDeps {
  client: KubeClient;
  clock: Clock;
  events: EventRecorder;
  /** The operator's trainer pods (cache). */
  pods: Informer;
  /** Every CaffeTrainingJob (cache): whose snapshot prefix is claimed. */
  trainingJobs: Informer;
  trainerImage: string;
  /** A node folder GPU trainer pods keep CUDA's compilation cache in (objects.ts, TrainerPodDefaults). */
  cudaCacheHostPath?: string;
  /** Where trainer pods report progress; without it they report nowhere and status shows no progress. */
  progress?: ProgressRoute;
  metrics?: OperatorMetrics;
}

export function trainingReconciler(deps: TrainingControllerDeps): Reconciler {
  const { client, clock, events } = deps;
  return async (key, log) => {
    const { namespace, name } = splitKey(key);
    const object = await client.get(TRAINING_JOBS, namespace, name);
    const releaseAll = async () => {
      for (const pod of podsOf(deps.pods, namespace, name)) {
        if (pod.metadata?.finalizers?.includes(TRACKING_FINALIZER)) {
          await release(client, namespace, pod.metadata.name ?? '');
        }
      }
    };
    // Its children are garbage-collected; the ended pods only once the finalizer is off them.
    if (!object || object.metadata?.deletionTimestamp) {
      await releaseAll();
      if (!object) await deps.metrics?.forgetTrainingJob(namespace, name);
      return;
    }
    const input = await gather(deps, object, namespace, name);
    const decision = decideTraining(input);
    const job: JobRef | undefined = input.spec
      ? { name, namespace, uid: object.metadata?.uid ?? '', spec: input.spec }
      : undefined;

    try {
      for (const action of decision.actions) await act(deps, object, job, action);
    } catch (error) {
      // A namespace being deleted takes the job too, but only once its pods are released.
      if (!isNamespaceTerminating(error)) throw error;
      log.info('the namespace is being deleted: releasing the trainer pods');
      return void (await releaseAll());
    }
    if (statusChanged(object.status ?? {}, decision.status)) {
      await client.replaceStatus(TRAINING_JOBS, namespace, name, { ...object, status: decision.status });
      if (input.status.phase !== decision.phase) {
        log.info({ from: input.status.phase ?? 'none', to: decision.phase }, 'training job phase changed');
      }
      for (const e of decision.events) events.record(object, e.type, e.reason, e.action, e.note);
      const counted = decision.counted;
      if (counted && 'restart' in counted) deps.metrics?.trainingRestarts.inc({ namespace, job_name: name });
      if (counted && 'disruption' in counted) {
        deps.metrics?.trainingDisruptions.inc({ namespace, job_name: name, reason: counted.disruption });
      }
    }
    for (const action of decision.afterStatus) await act(deps, object, job, action);
    return decision.requeueAfterMs !== undefined ? { requeueAfterMs: decision.requeueAfterMs } : undefined;
  };

  async function gather(
    deps: TrainingControllerDeps,
    object: KubeObject,
    namespace: string,
    name: string,
  ): Promise<TrainingInput> {
    const spec = CaffeTrainingJobSpec.safeParse(object.spec);
    const status = CaffeTrainingJobStatus.safeParse(object.status ?? {});
    const input: TrainingInput = {
      name,
      status: status.success ? status.data : {},
      now: clock.now(),
      staleTrackedPods: [],
    };
    if (object.metadata?.generation !== undefined) input.generation = object.metadata.generation;
    if (!spec.success) {
      input.specError = `spec is invalid: ${z.prettifyError(spec.error)}`;
      return input;
    }
    input.spec = spec.data;
    const suspending = spec.data.suspend;
    const mine = podsOf(deps.pods, namespace, name);
    const current = input.status.pod;
    let currentPod = current ? mine.find((p) => p.metadata?.name === current) : undefined;
    // The cache may not have a pod created a moment ago: ask the apiserver before calling it gone.
    if (current && !currentPod) currentPod = await client.get(PODS, namespace, current);
    if (currentPod) input.pod = viewTrainerPod(currentPod, suspending);
    for (const pod of mine) {
      const view = viewTrainerPod(pod, suspending);
      if (view.name !== current && view.tracked && (view.state === 'Ended' || view.deleting)) {
        input.staleTrackedPods.push(view.name);
      }
    }
    const terminal = input.status.phase === 'Succeeded' || input.status.phase === 'Failed';
    if (terminal) return input;

    const needsPod = !input.pod || input.pod.state === 'Ended';
    if (spec.data.queueName && !suspending) {
      if (input.pod?.queued)
        input.kueue = await queueOf(client, namespace, spec.data.queueName, input.pod.uid);
      else if (needsPod) input.kueue = { installed: await kueueInstalled(client) };
    }
    if (needsPod && !suspending) {
      const self = claimantOf(object);
      if (self) input.prefixClaim = prefixClaim(self, deps.trainingJobs.list().flatMap(claimantOrNone));
      const data = await dataFor(client, namespace, spec.data);
      input.data = data.state;
      if (data.state.ready) {
        input.prototxts = await prototxtsFor(client, namespace, spec.data, data.locations);
      }
    }
    return input;
  }
}

/** What Kueue says of a queued trainer pod: its Workload, and the ClusterQueue behind its LocalQueue. */
async function queueOf(
  client: KubeClient,
  namespace: string,
  queue: string,
  podUid: string,
): Promise<KueueState> {
  const workload = await workloadOf(client, podUid);
  if (workload === 'absent') return { installed: false };
  const state: KueueState = { installed: true };
  if (workload) state.workload = workload;
  const localQueue = await client.get(LOCAL_QUEUES, namespace, queue);
  const clusterQueue = (localQueue?.spec as { clusterQueue?: string } | undefined)?.clusterQueue;
  if (clusterQueue) state.clusterQueue = clusterQueue;
  return state;
}

/**
 * A job as the prefix claim sees it. Reads the fields it needs without parsing the whole spec: every
 * reconcile looks at every job, and a thousand full parses per reconcile would cost more than the rest.
 */
function claimantOf(job: KubeObject): PrefixClaimant | undefined {
  const uri = (job.spec as { snapshotURI?: unknown } | undefined)?.snapshotURI;
  if (typeof uri !== 'string' || uri === '') return undefined;
  const status = (job.status ?? {}) as { phase?: string; pod?: string; startTime?: string };
  return {
    namespace: job.metadata?.namespace ?? '',
    name: job.metadata?.name ?? '',
    createdAt: job.metadata?.creationTimestamp ?? '',
    prefix: snapshotPrefixOf({ snapshotURI: uri }),
    finished: status.phase === 'Succeeded' || status.phase === 'Failed',
    started: status.pod !== undefined || status.startTime !== undefined,
  };
}

const claimantOrNone = (job: KubeObject): PrefixClaimant[] => {
  const claimant = claimantOf(job);
  return claimant ? [claimant] : [];
};

function isNamespaceTerminating(error: unknown): boolean {
  return httpStatusOf(error) === 403 && /because it is being terminated/.test(String(error));
}

function podsOf(pods: Informer, namespace: string, job: string): KubeObject[] {
  return pods
    .list()
    .filter((p) => p.metadata?.namespace === namespace && p.metadata?.labels?.[JOB_LABEL] === job);
}

async function act(
  deps: TrainingControllerDeps,
  object: KubeObject,
  job: JobRef | undefined,
  action: TrainingAction,
): Promise<void> {
  const { client } = deps;
  const namespace = object.metadata?.namespace ?? '';
  const name = object.metadata?.name ?? '';
  const createOrKeep = async (res: Resource, body: KubeObject) => {
    try {
      await client.create(res, namespace, body);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  };
  switch (action.type) {
    case 'applyConfigMap': {
      const desired = prototxtConfigMap(job!, { ...action, progressCa: deps.progress?.ca });
      const existing = await client.get(CONFIG_MAPS, namespace, configMapName(name));
      if (!existing) await client.create(CONFIG_MAPS, namespace, desired);
      else if (statusChanged(existing.data, desired.data)) {
        await client.replace(CONFIG_MAPS, namespace, configMapName(name), {
          ...desired,
          metadata: { ...desired.metadata, resourceVersion: existing.metadata?.resourceVersion ?? '' },
        });
      }
      return;
    }
    case 'ensureService':
      return createOrKeep(SERVICES, metricsService(job!));
    case 'createPod':
      return createOrKeep(
        PODS,
        trainerPod(job!, action.attempt, {
          image: deps.trainerImage,
          ...(deps.progress ? { progress: deps.progress } : {}),
          ...(deps.cudaCacheHostPath ? { cudaCacheHostPath: deps.cudaCacheHostPath } : {}),
        }),
      );
    case 'stopPod':
      // The pod's own grace period: the trainer finishes its iteration and snapshots before it exits.
      return client.delete(PODS, namespace, action.name, { uid: action.uid });
    case 'release':
      return release(client, namespace, action.name);
    case 'deleteJob':
      return client.delete(TRAINING_JOBS, namespace, name);
  }
}

/** Removes the tracking finalizer, so an ended pod's deletion can complete. */
async function release(client: KubeClient, namespace: string, podName: string): Promise<void> {
  const pod = await client.get(PODS, namespace, podName);
  const finalizers = pod?.metadata?.finalizers ?? [];
  if (!pod || !finalizers.includes(TRACKING_FINALIZER)) return;
  try {
    await client.mergePatch(PODS, namespace, podName, {
      metadata: {
        finalizers: finalizers.filter((f) => f !== TRACKING_FINALIZER),
        resourceVersion: pod.metadata?.resourceVersion,
      },
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
