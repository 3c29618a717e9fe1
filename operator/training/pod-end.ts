// What a trainer pod is doing, and when it has ended, why: completed, disrupted (not the trainer's
// fault: preemption, eviction, node loss, suspend, deletion by someone), bad input (no retry can fix
// it) or failed. Pure: from the pod object as the apiserver sends it.
import type { DisruptionReason } from '../api/caffe-training-job.js';
import { ADMISSION_GATE, TERMINATION_TARGET } from '../kueue.js';
import type { KubeObject } from '../runtime/kube-client.js';
import { BAD_INPUT_EXIT_CODE, USAGE_EXIT_CODE } from '../workloads.js';
import { TRACKING_FINALIZER } from './objects.js';

export type PodEnd =
  | { kind: 'Completed' }
  | { kind: 'Disrupted'; reason: DisruptionReason; message: string }
  | { kind: 'BadInput'; exitCode: number; message: string }
  | { kind: 'Failed'; exitCode?: number; message: string };

export interface TrainerPodView {
  name: string;
  uid: string;
  /** Pending: not running yet; Running: its container runs (perhaps stopping); Ended: it is over. */
  state: 'Pending' | 'Running' | 'Ended';
  deleting: boolean;
  tracked: boolean;
  nodeName?: string;
  /** Why it is not scheduled yet, in the scheduler's words. */
  unschedulable?: string;
  /** Kueue holds it with its admission gate: it waits in its LocalQueue, using no node. */
  queued?: boolean;
  end?: PodEnd;
  finishedAt?: Date;
  attempt?: number;
}

interface PodCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}
interface ContainerState {
  running?: object;
  terminated?: { exitCode?: number; reason?: string; message?: string; finishedAt?: string };
}
interface PodShape {
  spec?: {
    nodeName?: string;
    schedulingGates?: { name?: string }[];
    containers?: { name?: string; resources?: { limits?: Record<string, string | number> } }[];
  };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: PodCondition[];
    containerStatuses?: { name?: string; state?: ContainerState }[];
  };
}

/** The DisruptionTarget reasons Kubernetes sets, as the job counts them. */
const DISRUPTION_TARGET_REASONS: Record<string, DisruptionReason> = {
  PreemptionByScheduler: 'Preemption',
  PreemptionByKubeScheduler: 'Preemption',
  EvictionByEvictionAPI: 'Eviction',
  TerminationByKubelet: 'Eviction',
  DeletionByTaintManager: 'NodeLost',
  DeletionByPodGC: 'NodeLost',
};

/** Pod status.reason values the kubelet sets when it rejects or ends a pod for the node's sake. */
const STATUS_REASONS: Record<string, DisruptionReason> = {
  Evicted: 'Eviction',
  Preempting: 'Preemption',
  Terminated: 'NodeLost',
  NodeShutdown: 'NodeLost',
  NodeAffinity: 'Other',
  OutOfgpu: 'Other',
};

/** Views a pod; `suspending` says the job is suspended, so a deletion is the operator's own. */
export function viewTrainerPod(object: KubeObject, suspending: boolean): TrainerPodView {
  const pod = object as KubeObject & PodShape;
  const status = pod.status ?? {};
  const deleting = Boolean(pod.metadata?.deletionTimestamp);
  const conditions = status.conditions ?? [];
  const container =
    status.containerStatuses?.find((c) => c.name === 'trainer') ?? status.containerStatuses?.[0];
  const terminated = container?.state?.terminated;
  const ended = status.phase === 'Succeeded' || status.phase === 'Failed' || terminated !== undefined;
  const view: TrainerPodView = {
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    state: ended ? 'Ended' : container?.state?.running ? 'Running' : 'Pending',
    deleting,
    tracked: pod.metadata?.finalizers?.includes(TRACKING_FINALIZER) ?? false,
  };
  const attempt = Number(pod.metadata?.labels?.['caffe.brewery.dev/attempt']);
  if (Number.isInteger(attempt)) view.attempt = attempt;
  if (pod.spec?.nodeName) view.nodeName = pod.spec.nodeName;
  if (pod.spec?.schedulingGates?.some((g) => g.name === ADMISSION_GATE)) view.queued = true;
  const scheduled = conditions.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    view.unschedulable = scheduled.message ?? 'the scheduler found no node for it';
  }
  if (!ended) return view;
  if (terminated?.finishedAt) view.finishedAt = new Date(terminated.finishedAt);
  view.end = endOf(pod, conditions, terminated, deleting, suspending);
  return view;
}

function endOf(
  pod: PodShape,
  conditions: PodCondition[],
  terminated: NonNullable<ContainerState['terminated']> | undefined,
  deleting: boolean,
  suspending: boolean,
): PodEnd {
  const target = conditions.find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
  if (target) {
    const reason = DISRUPTION_TARGET_REASONS[target.reason ?? ''] ?? 'Other';
    return { kind: 'Disrupted', reason, message: `${target.reason}: ${target.message ?? 'no message'}` };
  }
  // Kueue evicted the pod's Workload (preempted for a higher priority, or its queue stopped) and
  // deleted the pod: Kueue's doing, not the user's suspend nor the trainer's fault.
  const stopped = conditions.find((c) => c.type === TERMINATION_TARGET && c.status === 'True');
  if (stopped) {
    return {
      kind: 'Disrupted',
      reason: 'Kueue',
      message: `${stopped.reason}: ${stopped.message ?? 'no message'}`,
    };
  }
  const statusReason = pod.status?.reason;
  if (statusReason && STATUS_REASONS[statusReason]) {
    return {
      kind: 'Disrupted',
      reason: STATUS_REASONS[statusReason],
      message: `${statusReason}: ${pod.status?.message ?? 'no message'}`,
    };
  }
  if (deleting) {
    return suspending
      ? { kind: 'Disrupted', reason: 'Suspend', message: 'the job was suspended' }
      : { kind: 'Disrupted', reason: 'Other', message: 'the pod was deleted before it ended' };
  }
  if (!terminated) {
    return { kind: 'Failed', message: `the pod failed before its container ran: ${podMessage(pod)}` };
  }
  const exitCode = terminated.exitCode ?? -1;
  const message = (terminated.message ?? '').trim() || terminated.reason || 'no termination message';
  if (exitCode === 0) return { kind: 'Completed' };
  if (exitCode === BAD_INPUT_EXIT_CODE || exitCode === USAGE_EXIT_CODE) {
    return { kind: 'BadInput', exitCode, message };
  }
  // The runtime says OOMKilled only when the memory cgroup's OOM killer ended the container: a
  // failure the same limit will repeat, so the message says which field to raise.
  if (terminated.reason === 'OOMKilled') return { kind: 'Failed', exitCode, message: oomMessage(pod) };
  return { kind: 'Failed', exitCode, message };
}

function oomMessage(pod: PodShape): string {
  const trainer = pod.spec?.containers?.find((c) => c.name === 'trainer') ?? pod.spec?.containers?.[0];
  const limit = trainer?.resources?.limits?.memory;
  const at = limit === undefined ? 'its memory limit' : `its memory limit of ${limit}`;
  return (
    `the trainer container was OOMKilled at ${at}: raise spec.resources.memory, ` +
    'or lower the batch_size of the net'
  );
}

function podMessage(pod: PodShape): string {
  return [pod.status?.reason, pod.status?.message].filter(Boolean).join(': ') || 'no reason given';
}
