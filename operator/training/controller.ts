// The CaffeTrainingJob controller: get the job → gather its trainer pod, data, prototxts, the trainer's
// live status and latest snapshot → decide (decide.ts) → create or stop pods → write status when it
// changed → release ended pods whose end is now on record → Events and metrics.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { z } from 'zod';
import type { LiveStatus } from '../../trainer/train/live-status.js';
import {
  CaffeTrainingJobSpec,
  CaffeTrainingJobStatus,
  TRAINING_JOB_KIND,
  TRAINING_JOB_PLURAL,
} from '../api/caffe-training-job.js';
import { GROUP, VERSION } from '../api/common.js';
import { DATASETS } from '../dataset/controller.js';
import { outputPrefix } from '../dataset/jobs.js';
import type { Clock } from '../runtime/clock.js';
import { findCondition, statusChanged } from '../runtime/conditions.js';
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
import {
  type DataState,
  decideTraining,
  type SnapshotRef,
  type TrainingAction,
  type TrainingInput,
} from './decide.js';
import {
  configMapName,
  JOB_LABEL,
  type JobRef,
  metricsService,
  prototxtConfigMap,
  snapshotPrefixOf,
  statusFileOf,
  TRACKING_FINALIZER,
  trainerPod,
} from './objects.js';
import { viewTrainerPod } from './pod-end.js';
import { type DataLocations, type PrototxtText, renderPrototxts } from './render.js';

export const TRAINING_JOBS: Resource = {
  group: GROUP,
  version: VERSION,
  plural: TRAINING_JOB_PLURAL,
  kind: TRAINING_JOB_KIND,
};

/** What the controller reads from the object store, passed in so tests and the operator choose how. */
export interface TrainingStore {
  /** The trainer's live status record, or undefined when there is none yet. */
  readLiveStatus(uri: string): Promise<LiveStatus | undefined>;
  /** The newest complete snapshot under the prefix. */
  findLatestSnapshot(prefix: string): Promise<SnapshotRef | undefined>;
}

export interface TrainingControllerDeps {
  client: KubeClient;
  clock: Clock;
  events: EventRecorder;
  /** The operator's trainer pods (cache). */
  pods: Informer;
  store: TrainingStore;
  trainerImage: string;
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
    if (!object || object.metadata?.deletionTimestamp) return void (await releaseAll());
    const input = await gather(deps, object, namespace, name, log);
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
    log: Parameters<Reconciler>[1],
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

    const prefix = snapshotPrefixOf(spec.data);
    if (current)
      input.live = await readQuietly(() => deps.store.readLiveStatus(statusFileOf(spec.data)), log);
    const needsPod = !input.pod || input.pod.state === 'Ended';
    if (needsPod && !suspending) {
      const data = await dataFor(client, namespace, spec.data);
      input.data = data.state;
      if (data.state.ready) {
        input.prototxts = await prototxtsFor(client, namespace, spec.data, data.locations);
        const latest = await deps.store.findLatestSnapshot(prefix);
        if (latest) input.latestSnapshot = latest;
      }
    }
    return input;
  }
}

function isNamespaceTerminating(error: unknown): boolean {
  return httpStatusOf(error) === 403 && /because it is being terminated/.test(String(error));
}

function podsOf(pods: Informer, namespace: string, job: string): KubeObject[] {
  return pods
    .list()
    .filter((p) => p.metadata?.namespace === namespace && p.metadata?.labels?.[JOB_LABEL] === job);
}

async function readQuietly<T>(
  read: () => Promise<T>,
  log: Parameters<Reconciler>[1],
): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    log.warn({ err: String(error) }, 'could not read the trainer status record');
    return undefined;
  }
}

/** The dataset's state and where its shards and mean are; or the job's explicit data. */
async function dataFor(
  client: KubeClient,
  namespace: string,
  spec: CaffeTrainingJobSpec,
): Promise<{ state: DataState; locations: DataLocations }> {
  if (spec.data) {
    const { trainSource, valSource, meanFile } = spec.data;
    return {
      state: { ready: true },
      locations: {
        train: trainSource,
        ...(valSource ? { val: valSource } : {}),
        ...(meanFile ? { mean: meanFile } : {}),
      },
    };
  }
  if (!spec.dataset) return { state: { ready: true }, locations: {} };
  const name = spec.dataset.name;
  const dataset = await client.get(DATASETS, namespace, name);
  if (!dataset) {
    return {
      state: { ready: false, reason: 'DatasetNotFound', message: `ImageNetDataset ${name} does not exist` },
      locations: {},
    };
  }
  const status = (dataset.status ?? {}) as {
    phase?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
  if (status.phase !== 'Ready') {
    const ready = findCondition(status.conditions as never, 'Ready');
    return {
      state: {
        ready: false,
        reason: 'DatasetNotReady',
        message: `waiting for ImageNetDataset ${name}: it is ${status.phase ?? 'new'}${ready ? ` (${ready.message})` : ''}`,
      },
      locations: {},
    };
  }
  const out = outputPrefix((dataset.spec ?? {}) as never);
  return {
    state: { ready: true },
    locations: { train: `${out}/train`, val: `${out}/val`, mean: `${out}/mean.binaryproto` },
  };
}

async function prototxtsFor(
  client: KubeClient,
  namespace: string,
  spec: CaffeTrainingJobSpec,
  data: DataLocations,
): Promise<TrainingInput['prototxts']> {
  try {
    const solver = await prototxtText(client, namespace, spec.solver, 'solver', 'solver.prototxt');
    if ('error' in solver) return solver;
    const netSource = spec.net ?? (spec.solver.builtin ? { builtin: spec.solver.builtin } : undefined);
    if (!netSource) {
      return {
        error:
          'spec.net is required unless the solver is builtin: the trainer cannot read the net file the solver names',
        badInput: true,
      };
    }
    const net = await prototxtText(client, namespace, netSource, 'net', 'train_val.prototxt');
    if ('error' in net) return net;
    return renderPrototxts(spec, net, solver, data);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error), badInput: true };
  }
}

type PrototxtSource = NonNullable<CaffeTrainingJobSpec['net']>;

async function prototxtText(
  client: KubeClient,
  namespace: string,
  source: PrototxtSource,
  what: string,
  builtinFile: string,
): Promise<PrototxtText | { error: string; badInput: boolean }> {
  if (source.inline !== undefined) return { text: source.inline, where: `spec.${what}.inline` };
  if (source.configMapKeyRef) {
    const { name, key } = source.configMapKeyRef;
    const configMap = await client.get(CONFIG_MAPS, namespace, name);
    const text = (configMap?.data as Record<string, string> | undefined)?.[key];
    if (text === undefined) {
      const missing = configMap ? `has no key ${key}` : 'does not exist';
      return { error: `spec.${what}.configMapKeyRef: ConfigMap ${name} ${missing}`, badInput: false };
    }
    return { text, where: `ConfigMap ${name} key ${key}` };
  }
  const model = source.builtin ?? '';
  const file = join(modelsFolder(), model, builtinFile);
  if (!existsSync(file)) {
    return {
      error: `spec.${what}.builtin: no built-in model ${model} (no ${builtinFile} for it)`,
      badInput: true,
    };
  }
  return { text: readFileSync(file, 'utf8'), where: `builtin ${model}/${builtinFile}` };
}

/** trainer/models of the package, found from this module whether it runs from dist or from source. */
function modelsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package.json above the operator: cannot find trainer/models');
    dir = parent;
  }
  return join(dir, 'trainer', 'models');
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
      const desired = prototxtConfigMap(job!, action);
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
      return createOrKeep(PODS, trainerPod(job!, action.attempt, action.from, deps.trainerImage));
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
