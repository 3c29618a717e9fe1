// The ImageNetDataset controller: get the dataset → gather its Jobs → decide (decide.ts) → create or
// suspend Jobs → write status when it changed → Events. It reads no object store: the finalize step
// reports its counts to operator/progress, which writes them into the status.
import { z } from 'zod';

import { GROUP, VERSION } from '../api/common.js';
import {
  DATASET_KIND,
  DATASET_PLURAL,
  ImageNetDatasetSpec,
  ImageNetDatasetStatus,
} from '../api/imagenet-dataset.js';
import type { Clock } from '../runtime/clock.js';
import { statusChanged } from '../runtime/conditions.js';
import type { Reconciler } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import { type Informer, splitKey } from '../runtime/informer.js';
import { isAlreadyExists, type KubeClient, type KubeObject, type Resource } from '../runtime/kube-client.js';
import { type DatasetAction, type DatasetInput, decideDataset } from './decide.js';
import { type DatasetRef, finalizeJob, JOBS, type JobDefaults, jobName, prepJob } from './jobs.js';
import { viewJob } from './observe.js';

export const DATASETS: Resource = {
  group: GROUP,
  version: VERSION,
  plural: DATASET_PLURAL,
  kind: DATASET_KIND,
};

export interface DatasetControllerDeps {
  client: KubeClient;
  clock: Clock;
  events: EventRecorder;
  /** The operator's Jobs (cache); events on them reconcile their dataset. */
  jobs: Informer;
  defaults: JobDefaults;
}

export function datasetReconciler(deps: DatasetControllerDeps): Reconciler {
  const { client, clock, events, jobs } = deps;
  return async (key, log) => {
    const { namespace, name } = splitKey(key);
    // Read the dataset itself fresh: a stale copy would only end in a conflict on the status write.
    const object = await client.get(DATASETS, namespace, name);
    if (!object || object.metadata?.deletionTimestamp) return undefined; // its Jobs are garbage-collected
    const input = gather(object, namespace, name);
    const decision = decideDataset(input);

    // An event about a Job we created is recorded once, when the create succeeds (not when it already
    // existed). Events about what was observed wait for the status write, so a retry does not repeat them.
    const [createEvents, observedEvents] = [
      decision.events.filter((e) => e.action === 'CreateJob'),
      decision.events.filter((e) => e.action !== 'CreateJob'),
    ];
    let created = false;
    for (const action of decision.actions) {
      if (await act(client, deps.defaults, object, input, action)) created ||= action.type === 'createJob';
    }
    const record = (list: typeof decision.events) => {
      for (const e of list) events.record(object, e.type, e.reason, e.action, e.note);
    };
    if (created) record(createEvents);

    if (statusChanged(object.status ?? {}, decision.status)) {
      await client.replaceStatus(DATASETS, namespace, name, { ...object, status: decision.status });
      if (input.status.phase !== decision.phase) {
        log.info({ from: input.status.phase ?? 'none', to: decision.phase }, 'dataset phase changed');
      }
      record(observedEvents);
    }
    return decision.requeueAfterMs !== undefined ? { requeueAfterMs: decision.requeueAfterMs } : undefined;
  };

  function gather(object: KubeObject, namespace: string, name: string): DatasetInput {
    const spec = ImageNetDatasetSpec.safeParse(object.spec);
    const status = ImageNetDatasetStatus.safeParse(object.status ?? {});
    const prep = jobs.get(`${namespace}/${jobName(name, 'prep')}`);
    const finalize = jobs.get(`${namespace}/${jobName(name, 'finalize')}`);
    const input: DatasetInput = {
      name,
      uid: object.metadata?.uid ?? '',
      status: status.success ? status.data : {},
      now: clock.now(),
    };
    if (object.metadata?.generation !== undefined) input.generation = object.metadata.generation;
    if (spec.success) input.spec = spec.data;
    else input.specError = `spec is invalid: ${z.prettifyError(spec.error)}`;
    if (prep) input.prepJob = viewJob(prep);
    if (finalize) input.finalizeJob = viewJob(finalize);
    return input;
  }
}

/** Carries out one action; false when there was nothing to do (the Job already existed). */
async function act(
  client: KubeClient,
  defaults: JobDefaults,
  object: KubeObject,
  input: DatasetInput,
  action: DatasetAction,
): Promise<boolean> {
  const namespace = object.metadata?.namespace ?? '';
  const dataset: DatasetRef = { name: input.name, namespace, uid: input.uid, spec: input.spec! };
  switch (action.type) {
    case 'createJob': {
      const job = action.step === 'prep' ? prepJob(dataset, defaults) : finalizeJob(dataset, defaults);
      try {
        await client.create(JOBS, namespace, job);
        return true;
      } catch (error) {
        if (isAlreadyExists(error)) return false;
        throw error;
      }
    }
    case 'suspendPrep':
      await client.mergePatch(JOBS, namespace, jobName(input.name, 'prep'), {
        spec: { suspend: action.suspend },
      });
      return true;
  }
}
