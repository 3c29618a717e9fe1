// The training job controller's decision: from what was observed (the job, its current trainer pod,
// the data), the phase and status to record, what to create or delete, and
// the Events to emit. Pure: no clock, no client, no I/O.

import type { LiveStatus } from '../../trainer/contract/live-status.js';
import { backoffDelay } from '../../trainer/contract/retry.js';
import type {
  CaffeTrainingJobSpec,
  CaffeTrainingJobStatus,
  DisruptionReason,
  TrainingJobPhase,
} from '../api/caffe-training-job.js';
import type { QueuedWorkload } from '../kueue.js';
import { type ConditionInput, setConditions } from '../runtime/conditions.js';
import type { EventType } from '../runtime/events.js';
import { podName, snapshotPrefixOf } from './objects.js';
import type { PodEnd, TrainerPodView } from './pod-end.js';
import type { PrefixClaimVerdict } from './prefix-claim.js';
import type { RenderedPrototxts } from './render.js';
import { LOSS_DIGITS, RATE_DIGITS, shortestFloat32, significant } from './status-numbers.js';

/** How often a running job is looked at again (its pod's state; progress comes from the trainer's reports). */
export const LIVE_STATUS_INTERVAL_MS = 15_000;
export const WAIT_FOR_DATA_MS = 10_000;
/** How often a queued job's status is refreshed from its Workload (Kueue's message changes unseen). */
export const QUEUED_REFRESH_MS = 5_000;
/** How often a job whose queue needs a Kueue that is not installed looks again. */
export const WAIT_FOR_KUEUE_MS = 30_000;
export const DEFAULT_RESTART_POLICY = {
  maxRestarts: 3,
  backoffSeconds: 10,
  maxBackoffSeconds: 600,
  maxDisruptions: 100,
};

export interface SnapshotRef {
  iteration: number;
  caffemodel: string;
  solverstate: string;
}

/** Whether the data the job trains on is there: Ready, or why not. */
export type DataState = { ready: true } | { ready: false; reason: string; message: string };

export interface TrainingInput {
  name: string;
  generation?: number;
  spec?: CaffeTrainingJobSpec;
  specError?: string;
  status: CaffeTrainingJobStatus;
  now: Date;
  /** The pod status.pod names, when it exists. */
  pod?: TrainerPodView;
  /** Ended or deleting pods of this job still held by the tracking finalizer, other than status.pod. */
  staleTrackedPods: string[];
  /** Gathered only when a pod may have to be made. */
  data?: DataState;
  /** The rendered prototxts, or why they could not be: a bad prototxt, or a ConfigMap still missing. */
  prototxts?: RenderedPrototxts | { error: string; badInput: boolean };
  /** Gathered when spec.queueName is set: whether Kueue is there, and what it says of the pod. */
  kueue?: KueueState;
  /** Gathered only when a pod may have to be made: whether another live job's prefix is ahead. */
  prefixClaim?: PrefixClaimVerdict;
}

export type KueueState =
  | { installed: false }
  | { installed: true; clusterQueue?: string; workload?: QueuedWorkload };

export type TrainingAction =
  | { type: 'applyConfigMap'; net: string; solver: string }
  | { type: 'ensureService' }
  | { type: 'createPod'; attempt: number }
  | { type: 'stopPod'; name: string; uid: string }
  | { type: 'release'; name: string }
  | { type: 'deleteJob' };

export interface TrainingEvent {
  type: EventType;
  reason: string;
  action: string;
  note: string;
}

export interface TrainingDecision {
  phase: TrainingJobPhase;
  status: CaffeTrainingJobStatus;
  /** Done before the status is written. */
  actions: TrainingAction[];
  /** Done once the status is written: releasing an ended pod only after its end is on record. */
  afterStatus: TrainingAction[];
  events: TrainingEvent[];
  requeueAfterMs?: number;
  /** For metrics: what this decision counted. */
  counted?: { restart: boolean } | { disruption: DisruptionReason };
}

interface Verdict {
  phase: TrainingJobPhase;
  running: { status: 'True' | 'False'; reason: string; message: string };
  failure?: { reason: string; message: string };
  actions?: TrainingAction[];
  events?: TrainingEvent[];
  requeueAfterMs?: number;
  status?: Partial<CaffeTrainingJobStatus>;
  counted?: TrainingDecision['counted'];
  /** Release the current pod (its end is recorded by this status). */
  releaseCurrent?: boolean;
}

export function decideTraining(input: TrainingInput): TrainingDecision {
  const verdict = judge(input);
  const status = statusFor(input, verdict);
  const afterStatus: TrainingAction[] = input.staleTrackedPods.map((name) => ({ type: 'release', name }));
  if (verdict.releaseCurrent && input.pod?.tracked)
    afterStatus.push({ type: 'release', name: input.pod.name });
  return {
    phase: verdict.phase,
    status,
    actions: verdict.actions ?? [],
    afterStatus,
    events: verdict.events ?? [],
    ...(verdict.requeueAfterMs !== undefined ? { requeueAfterMs: verdict.requeueAfterMs } : {}),
    ...(verdict.counted ? { counted: verdict.counted } : {}),
  };
}

const event = (type: EventType, reason: string, action: string, note: string): TrainingEvent => ({
  type,
  reason,
  action,
  note,
});

function judge(input: TrainingInput): Verdict {
  const { spec, status } = input;
  if (!spec) {
    return failed('InvalidSpec', input.specError ?? 'the spec is invalid');
  }
  if (status.phase === 'Succeeded' || status.phase === 'Failed') return finished(input, spec);
  const pod = input.pod;
  if (status.pod && pod && pod.state !== 'Ended') return podAlive(input, spec, pod);
  if (status.pod) return podEnded(input, spec, pod);
  return noPod(input, spec);
}

/** Succeeded or Failed: nothing more runs; the job goes when its TTL is up. */
function finished(input: TrainingInput, spec: CaffeTrainingJobSpec): Verdict {
  const phase = input.status.phase as TrainingJobPhase;
  const verdict: Verdict = {
    phase,
    running: { status: 'False', reason: phase, message: `training ${phase.toLowerCase()}` },
  };
  const failedCondition = input.status.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failedCondition) verdict.failure = { reason: failedCondition.reason, message: failedCondition.message };
  const ttl = spec.ttlSecondsAfterFinished;
  if (ttl !== undefined && input.status.completionTime) {
    const due = Date.parse(input.status.completionTime) + ttl * 1000;
    const left = due - input.now.getTime();
    if (left <= 0) {
      verdict.actions = [{ type: 'deleteJob' }];
      verdict.events = [event('Normal', 'Deleted', 'DeleteJob', `ttlSecondsAfterFinished (${ttl}s) passed`)];
    } else {
      verdict.requeueAfterMs = left;
    }
  }
  return verdict;
}

/** The current pod exists and has not ended: it is pending, running, or stopping. */
function podAlive(input: TrainingInput, spec: CaffeTrainingJobSpec, pod: TrainerPodView): Verdict {
  if (spec.suspend) {
    return {
      phase: 'Suspended',
      running: {
        status: 'False',
        reason: 'Suspending',
        message: `stopping ${pod.name}; the trainer snapshots before it exits`,
      },
      actions: pod.deleting ? [] : [{ type: 'stopPod', name: pod.name, uid: pod.uid }],
      events: pod.deleting
        ? []
        : [event('Normal', 'Suspending', 'StopPod', `suspend is set: stopping ${pod.name} after a snapshot`)],
      requeueAfterMs: LIVE_STATUS_INTERVAL_MS,
    };
  }
  if (pod.state === 'Pending' && pod.queued) return queued(input, spec, pod);
  if (pod.state === 'Pending') {
    const message = pod.unschedulable
      ? `${pod.name} cannot be scheduled: ${pod.unschedulable}`
      : `${pod.name} is starting${pod.nodeName ? ` on ${pod.nodeName}` : ''}`;
    const restarting = (input.status.restarts ?? 0) + (input.status.disruptions?.total ?? 0) > 0;
    return {
      phase: restarting ? 'Restarting' : 'Pending',
      running: { status: 'False', reason: pod.unschedulable ? 'Unschedulable' : 'PodStarting', message },
      requeueAfterMs: LIVE_STATUS_INTERVAL_MS,
    };
  }
  return {
    phase: 'Running',
    running: {
      status: 'True',
      reason: 'TrainerRunning',
      message: `${pod.name} is training${pod.nodeName ? ` on ${pod.nodeName}` : ''}`,
    },
    status: { startTime: input.status.startTime ?? input.now.toISOString() },
    requeueAfterMs: LIVE_STATUS_INTERVAL_MS,
  };
}

/** The current pod ended (or vanished): record why, then finish, wait, or start the next attempt. */
function podEnded(
  input: TrainingInput,
  spec: CaffeTrainingJobSpec,
  pod: TrainerPodView | undefined,
): Verdict {
  const ended: EndedPod = {
    name: input.status.pod ?? '',
    finishedAt: pod?.finishedAt,
    policy: { ...DEFAULT_RESTART_POLICY, ...spec.restartPolicy },
  };
  const end: PodEnd = pod?.end ?? {
    kind: 'Disrupted',
    reason: 'Other',
    message: 'the pod disappeared before the operator saw it end',
  };
  switch (end.kind) {
    case 'Completed':
      return podCompleted(ended);
    case 'BadInput':
      return podHadBadInput(ended, end);
    case 'Disrupted':
      return podDisrupted(input, spec, ended, end);
    case 'Failed':
      return podFailed(input, spec, ended, end);
  }
}

/** What podEnded's decisions share about the pod that ended. */
interface EndedPod {
  name: string;
  finishedAt: Date | undefined;
  policy: typeof DEFAULT_RESTART_POLICY;
}

/** Training reached max_iter: the job succeeded. */
function podCompleted({ name }: EndedPod): Verdict {
  return {
    ...failedOrDone('Succeeded'),
    events: [event('Normal', 'Succeeded', 'Complete', `${name} finished training`)],
    releaseCurrent: true,
  };
}

/** The trainer said its input can never work: the job fails at once, with no retry. */
function podHadBadInput({ name }: EndedPod, end: Extract<PodEnd, { kind: 'BadInput' }>): Verdict {
  return {
    ...failed(
      'BadInput',
      `${name} exited with code ${end.exitCode} (bad input, not retried): ${end.message}`,
    ),
    releaseCurrent: true,
  };
}

/**
 * Preempted, evicted, its node lost, or vanished: counted as a disruption, never against the restart
 * budget. Fails the job past maxDisruptions, stops when suspended, and otherwise resumes at once.
 */
function podDisrupted(
  input: TrainingInput,
  spec: CaffeTrainingJobSpec,
  { name, policy }: EndedPod,
  end: Extract<PodEnd, { kind: 'Disrupted' }>,
): Verdict {
  const total = (input.status.disruptions?.total ?? 0) + 1;
  const byReason = { ...input.status.disruptions?.byReason };
  byReason[end.reason] = (byReason[end.reason] ?? 0) + 1;
  const counted = { status: { disruptions: { total, byReason } }, counted: { disruption: end.reason } };
  const note = `${name} was disrupted (${end.reason}): ${end.message}`;
  if (total > policy.maxDisruptions) {
    return {
      ...failed(
        'DisruptionsExhausted',
        `${note}; that is ${total} disruptions, more than maxDisruptions ${policy.maxDisruptions}`,
      ),
      ...counted,
      releaseCurrent: true,
    };
  }
  if (spec.suspend) {
    return {
      phase: 'Suspended',
      running: {
        status: 'False',
        reason: 'Suspended',
        message: 'suspended; set suspend to false to resume',
      },
      status: { ...counted.status, pod: undefined },
      counted: counted.counted,
      events: [event('Normal', 'Suspended', 'Suspend', `${name} stopped; the job is suspended`)],
      releaseCurrent: true,
    };
  }
  const withCounts: TrainingInput = { ...input, status: { ...input.status, ...counted.status } };
  const next = startPod(withCounts, spec, 'Restarting', event('Warning', 'Disrupted', 'Restart', note));
  return {
    ...next,
    status: { ...next.status, ...counted.status },
    counted: counted.counted,
    releaseCurrent: true,
  };
}

/**
 * The trainer failed: counted against maxRestarts. Fails the job when none are left, waits out the
 * backoff since the pod finished, then starts the next attempt.
 */
function podFailed(
  input: TrainingInput,
  spec: CaffeTrainingJobSpec,
  { name, finishedAt, policy }: EndedPod,
  end: Extract<PodEnd, { kind: 'Failed' }>,
): Verdict {
  const restarts = (input.status.restarts ?? 0) + 1;
  const note = `${name} failed${end.exitCode !== undefined ? ` with exit code ${end.exitCode}` : ''}: ${end.message}`;
  if (restarts > policy.maxRestarts) {
    return {
      ...failed('RestartsExhausted', `${note}; no restarts left (maxRestarts ${policy.maxRestarts})`),
      releaseCurrent: true,
    };
  }
  const backoffMs = backoffDelay(restarts, {
    baseMs: policy.backoffSeconds * 1000,
    maxMs: policy.maxBackoffSeconds * 1000,
  });
  const since = finishedAt?.getTime() ?? input.now.getTime();
  const left = since + backoffMs - input.now.getTime();
  if (left > 0) {
    return {
      phase: 'Restarting',
      running: {
        status: 'False',
        reason: 'BackOff',
        message: `${note}; restart ${restarts} of ${policy.maxRestarts} in ${Math.ceil(left / 1000)}s`,
      },
      requeueAfterMs: left,
    };
  }
  const withCounts: TrainingInput = { ...input, status: { ...input.status, restarts } };
  const next = startPod(
    withCounts,
    spec,
    'Restarting',
    event('Warning', 'Failed', 'Restart', `${note}; restart ${restarts} of ${policy.maxRestarts}`),
  );
  return {
    ...next,
    status: { ...next.status, restarts },
    counted: { restart: true },
    releaseCurrent: true,
  };
}

/** No pod yet (or the job was suspended): start one when the data and prototxts are there. */
function noPod(input: TrainingInput, spec: CaffeTrainingJobSpec): Verdict {
  if (spec.suspend) {
    return {
      phase: 'Suspended',
      running: { status: 'False', reason: 'Suspended', message: 'suspended; set suspend to false to resume' },
    };
  }
  return startPod(input, spec, 'Pending');
}

/** Kueue holds the trainer pod with its admission gate: no node, no GPU, until Kueue admits it. */
function queued(input: TrainingInput, spec: CaffeTrainingJobSpec, pod: TrainerPodView): Verdict {
  const kueue = input.kueue?.installed ? input.kueue : undefined;
  const where = `LocalQueue ${spec.queueName}${kueue?.clusterQueue ? ` (ClusterQueue ${kueue.clusterQueue})` : ''}`;
  const said = kueue?.workload?.message;
  return {
    phase: 'Queued',
    running: {
      status: 'False',
      reason: 'Queued',
      message: `${pod.name} waits in ${where} for Kueue to admit it${said ? `: ${said}` : ''}`,
    },
    requeueAfterMs: QUEUED_REFRESH_MS,
  };
}

/** spec.queueName names a Kueue queue, but Kueue's API is not served here: wait, and say so. */
function kueueMissing(spec: CaffeTrainingJobSpec, events: TrainingEvent[]): Verdict {
  const message =
    `spec.queueName is "${spec.queueName}" but Kueue is not installed in this cluster ` +
    '(no kueue.x-k8s.io Workload API): install Kueue, or remove queueName to run without a queue';
  return {
    phase: 'Pending',
    running: { status: 'False', reason: 'KueueNotInstalled', message },
    events: [...events, event('Warning', 'KueueNotInstalled', 'CreatePod', message)],
    requeueAfterMs: WAIT_FOR_KUEUE_MS,
  };
}

/**
 * Another live job holds an overlapping snapshot prefix: wait until it finishes or is deleted, and
 * say which job it is. Waiting, not failing: the other job ending is the cluster's state, which changes.
 */
function prefixClaimed(
  spec: CaffeTrainingJobSpec,
  holder: Extract<PrefixClaimVerdict, { held: false }>['holder'],
  events: TrainingEvent[],
): Verdict {
  const message =
    `spec.snapshotURI ${spec.snapshotURI} overlaps ${holder.prefix}, the snapshot prefix of the live job ` +
    `${holder.namespace}/${holder.name}: no trainer starts until that job has finished or is deleted ` +
    '(then this job resumes from its latest snapshot), or give this job a prefix of its own';
  return {
    phase: 'Pending',
    running: { status: 'False', reason: 'SnapshotPrefixClaimed', message },
    // No current pod: an ended one is recorded once, and the next reconcile starts from noPod.
    status: { pod: undefined },
    events: [...events, event('Warning', 'SnapshotPrefixClaimed', 'CreatePod', message)],
    requeueAfterMs: WAIT_FOR_DATA_MS,
  };
}

function startPod(
  input: TrainingInput,
  spec: CaffeTrainingJobSpec,
  phase: 'Pending' | 'Restarting',
  cause?: TrainingEvent,
): Verdict {
  const events = cause ? [cause] : [];
  if (spec.queueName && input.kueue?.installed === false) return kueueMissing(spec, events);
  if (input.prefixClaim?.held === false) return prefixClaimed(spec, input.prefixClaim.holder, events);
  const data = input.data ?? { ready: true };
  if (!data.ready) {
    return {
      phase: 'WaitingForData',
      running: { status: 'False', reason: data.reason, message: data.message },
      events,
      requeueAfterMs: WAIT_FOR_DATA_MS,
    };
  }
  const prototxts = input.prototxts;
  if (!prototxts) throw new Error('decideTraining: prototxts must be gathered before a pod is started');
  if ('error' in prototxts) {
    if (prototxts.badInput) return failed('BadPrototxt', prototxts.error);
    return {
      phase: 'Pending',
      running: { status: 'False', reason: 'PrototxtMissing', message: prototxts.error },
      events,
      requeueAfterMs: WAIT_FOR_DATA_MS,
    };
  }
  const attempt = (input.status.restarts ?? 0) + (input.status.disruptions?.total ?? 0) + 1;
  const name = podName(input.name, attempt);
  const where = startingPoint(spec, input.status.latestSnapshot);
  return {
    phase,
    running: { status: 'False', reason: 'PodCreated', message: `created ${name}, ${where}` },
    actions: [
      { type: 'applyConfigMap', net: prototxts.net, solver: prototxts.solver },
      { type: 'ensureService' },
      { type: 'createPod', attempt },
    ],
    events: [...events, event('Normal', 'CreatedPod', 'CreatePod', `created trainer pod ${name}, ${where}`)],
    status: { pod: name, maxIter: input.status.maxIter ?? prototxts.maxIter },
    requeueAfterMs: LIVE_STATUS_INTERVAL_MS,
  };
}

/**
 * Where a new pod starts, in words. Every pod runs `caffe train --snapshot=latest`: the trainer finds the
 * newest complete snapshot under the prefix itself, with the job's credentials (the operator reads no
 * storage), so all the operator knows is the last snapshot a report named.
 */
function startingPoint(spec: CaffeTrainingJobSpec, reported: SnapshotRef | undefined): string {
  const prefix = snapshotPrefixOf(spec);
  if (reported) {
    return `resuming from the latest complete snapshot under ${prefix} (iteration ${reported.iteration} or later)`;
  }
  const otherwise = spec.weights ? `fine-tuning from ${spec.weights}` : 'starting from the fillers';
  return `resuming from the latest complete snapshot under ${prefix} if there is one, else ${otherwise}`;
}

function failed(reason: string, message: string): Verdict {
  return {
    ...failedOrDone('Failed'),
    failure: { reason, message },
    events: [event('Warning', reason, 'Fail', message)],
  };
}

function failedOrDone(phase: 'Succeeded' | 'Failed'): Verdict {
  return {
    phase,
    running: { status: 'False', reason: phase, message: `training ${phase.toLowerCase()}` },
  };
}

function statusFor(input: TrainingInput, verdict: Verdict): CaffeTrainingJobStatus {
  const previous = input.status;
  const status: CaffeTrainingJobStatus = { ...previous, ...verdict.status, phase: verdict.phase };
  if (input.generation !== undefined) status.observedGeneration = input.generation;
  if (status.iteration !== undefined && status.maxIter !== undefined) {
    status.progress = `${status.iteration}/${status.maxIter}`;
  }
  const terminal = verdict.phase === 'Succeeded' || verdict.phase === 'Failed';
  if (terminal && !status.completionTime) status.completionTime = input.now.toISOString();
  if (terminal && verdict.phase !== previous.phase) status.pod = previous.pod;
  const conditions: ConditionInput[] = [{ type: 'Running', ...verdict.running }];
  if (verdict.phase === 'Succeeded') {
    conditions.push({
      type: 'Succeeded',
      status: 'True',
      reason: 'Succeeded',
      message: 'trained to max_iter',
    });
  }
  if (verdict.failure) conditions.push({ type: 'Failed', status: 'True', ...verdict.failure });
  conditions.push({
    type: 'Suspended',
    status: verdict.phase === 'Suspended' ? 'True' : 'False',
    reason: verdict.phase === 'Suspended' ? 'Suspended' : 'NotSuspended',
    message: verdict.phase === 'Suspended' ? 'spec.suspend is true' : 'spec.suspend is false',
  });
  status.conditions = setConditions(previous.conditions, conditions, input.now, input.generation);
  return status;
}

/**
 * A job's status with the trainer's report mirrored into it (what the progress endpoint writes): the
 * report's fields, the progress column, and its snapshot only when it is not older than the one there.
 */
export function withLiveStatus(status: CaffeTrainingJobStatus, live: LiveStatus): CaffeTrainingJobStatus {
  const mirrored: CaffeTrainingJobStatus = { ...status, ...liveFields(live, status) };
  for (const key of Object.keys(mirrored) as (keyof CaffeTrainingJobStatus)[]) {
    if (mirrored[key] === undefined) delete mirrored[key];
  }
  if (mirrored.iteration !== undefined && mirrored.maxIter !== undefined) {
    mirrored.progress = `${mirrored.iteration}/${mirrored.maxIter}`;
  }
  return mirrored;
}

/** The trainer's own report: iteration, losses, rate, throughput, the last test pass, its snapshot. */
export function liveFields(
  live: LiveStatus,
  status: CaffeTrainingJobStatus,
): Partial<CaffeTrainingJobStatus> {
  // JSON has no NaN: a diverged loss is left out of status rather than written as null.
  // Numbers are rounded to what a person reads (status-numbers.ts): the trainer's float32 values arrive
  // widened to doubles.
  const finite = (x: number, round: (x: number) => number) => (Number.isFinite(x) ? round(x) : undefined);
  const loss = (x: number) => significant(x, LOSS_DIGITS);
  const fields: Partial<CaffeTrainingJobStatus> = {
    iteration: live.iteration,
    maxIter: live.maxIter,
    trainLoss: finite(live.trainLoss, loss),
    learningRate: finite(live.learningRate, shortestFloat32),
    imagesPerSecond: finite(live.imagesPerSecond, (x) => significant(x, RATE_DIGITS)),
  };
  const outputs = live.tests.flatMap((test) =>
    test.outputs
      .filter((o) => Number.isFinite(o.value))
      .map((o) => ({
        name: test.netIndex === 0 ? o.name : `${test.netIndex}/${o.name}`,
        value: shortestFloat32(o.value),
      })),
  );
  if (outputs.length > 0) fields.testOutputs = outputs;
  const accuracy = live.tests.find((t) => t.netIndex === 0)?.outputs.find((o) => o.name === 'accuracy');
  if (accuracy && Number.isFinite(accuracy.value)) fields.accuracy = shortestFloat32(accuracy.value);
  const snapshot = live.latestSnapshot;
  if (snapshot && (status.latestSnapshot?.iteration ?? -1) <= snapshot.iteration) {
    fields.latestSnapshot = snapshot;
  }
  return fields;
}
