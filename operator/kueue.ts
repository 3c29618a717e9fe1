// What the operator knows of Kueue (https://kueue.sigs.k8s.io): the label that puts a Pod or a batch Job
// in a LocalQueue, the scheduling gate Kueue's Pod integration holds a pod with until it is admitted,
// the pod condition Kueue sets when it stops (evicts, preempts) an admitted pod, and how to read a
// pod's Workload for Kueue's own message. Names as in sigs.k8s.io/kueue pkg/controller/constants and
// pkg/controller/jobs/pod.
import { isNotFound, type KubeClient, type KubeObject, type Resource } from './runtime/kube-client.js';

export const QUEUE_NAME_LABEL = 'kueue.x-k8s.io/queue-name';
/** The scheduling gate Kueue's Pod webhook adds; Kueue removes it when the pod's Workload is admitted. */
export const ADMISSION_GATE = 'kueue.x-k8s.io/admission';
/** The pod condition Kueue sets (status True) before it deletes a pod it evicted or preempted. */
export const TERMINATION_TARGET = 'TerminationTarget';
/** The label Kueue puts on the Workload it makes for an object: that object's UID. */
const JOB_UID_LABEL = 'kueue.x-k8s.io/job-uid';

export const WORKLOADS: Resource = {
  group: 'kueue.x-k8s.io',
  version: 'v1beta2',
  plural: 'workloads',
  kind: 'Workload',
};

export const LOCAL_QUEUES: Resource = {
  group: 'kueue.x-k8s.io',
  version: 'v1beta2',
  plural: 'localqueues',
  kind: 'LocalQueue',
};

/** What a queued Workload says about itself. */
export interface QueuedWorkload {
  name: string;
  /** Kueue's own words on why it is not admitted yet ("couldn't assign flavors to pod set ..."). */
  message?: string;
  admitted: boolean;
  /** The ClusterQueue that admitted it, once admitted. */
  clusterQueue?: string;
}

/**
 * The Workload Kueue made for an object (found by its UID), or `absent` when Kueue's Workload API is not
 * served at all: Kueue is not installed.
 */
export async function workloadOf(
  client: KubeClient,
  uid: string,
): Promise<QueuedWorkload | undefined | 'absent'> {
  let items: KubeObject[];
  try {
    ({ items } = await client.list(WORKLOADS, { labelSelector: `${JOB_UID_LABEL}=${uid}` }));
  } catch (error) {
    if (isNotFound(error)) return 'absent';
    throw error;
  }
  const workload = items[0];
  return workload ? viewWorkload(workload) : undefined;
}

/** Whether Kueue's Workload API is served (Kueue's CRDs are installed). */
export async function kueueInstalled(client: KubeClient): Promise<boolean> {
  return (await workloadOf(client, 'none')) !== 'absent';
}

interface WorkloadShape {
  status?: {
    admission?: { clusterQueue?: string };
    conditions?: { type?: string; status?: string; message?: string }[];
  };
}

/** Pure: a Workload as the apiserver sends it. */
export function viewWorkload(object: KubeObject): QueuedWorkload {
  const status = (object as KubeObject & WorkloadShape).status ?? {};
  const condition = (type: string) => status.conditions?.find((c) => c.type === type);
  const admitted = condition('Admitted')?.status === 'True';
  const view: QueuedWorkload = { name: object.metadata?.name ?? '', admitted };
  // QuotaReserved=False carries the reason it waits; Pending on a missing LocalQueue says so too.
  const message = condition('QuotaReserved')?.message ?? condition('Admitted')?.message;
  if (message) view.message = message;
  if (status.admission?.clusterQueue) view.clusterQueue = status.admission.clusterQueue;
  return view;
}
