// PURE: the status a pod should have, computed from what the kubelet knows about its processes, the
// pod's spec and the status already stored (conditions that others added, such as DisruptionTarget
// from the scheduler or the taint manager, are kept as they are). Times are RFC 3339 strings so a
// status can be compared with the last one written and sent as a patch as is.

import type { V1Pod } from '@kubernetes/client-node';

export const RUNTIME_PREFIX = 'brewery-local://';

/** What one container is doing, as the kubelet's own record. */
export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: string; pid: number }
  | {
      kind: 'terminated';
      exitCode: number;
      signal?: number;
      reason: string;
      message?: string;
      startedAt?: string;
      finishedAt: string;
      pid?: number;
    };

export type TerminatedState = Extract<ContainerState, { kind: 'terminated' }>;

export interface ContainerRecord {
  name: string;
  image: string;
  state: ContainerState;
  lastTerminated?: TerminatedState;
  restartCount: number;
}

export interface PodRecord {
  /** The pod folder, IP and volumes are in place. */
  sandboxReady: boolean;
  podIP?: string;
  hostIP: string;
  startTime?: string;
  initContainers: ContainerRecord[];
  containers: ContainerRecord[];
  /** Every process has ended and none will be started again (deletion or a terminal pod). */
  finished: boolean;
  /** The pod was deleted (deletionTimestamp set): when finished it gets a terminal phase. */
  deleting: boolean;
  /** Set when the kubelet itself ends the pod (e.g. after a kubelet restart). */
  failure?: { reason: string; message: string; disruptionReason?: string };
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string | null;
  observedGeneration?: number;
}

export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: Record<string, unknown>;
  lastState: Record<string, unknown>;
}

export interface PodStatus {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  reason?: string;
  message?: string;
  conditions: PodCondition[];
  hostIP: string;
  hostIPs: Array<{ ip: string }>;
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  startTime?: string;
  initContainerStatuses?: ContainerStatus[];
  containerStatuses: ContainerStatus[];
}

/** Condition types this kubelet owns; all others are kept from the stored status untouched. */
export const KUBELET_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready'];

export function computePodStatus(pod: V1Pod, record: PodRecord, now: Date): PodStatus {
  const phase = podPhase(pod, record);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const stored = (pod.status?.conditions ?? []).map(plainCondition);
  const initialized = record.initContainers.every(succeeded);
  const unready = record.containers.filter((c) => !isReady(c, terminal)).map((c) => c.name);
  const incompleteInit = record.initContainers.filter((c) => !succeeded(c)).map((c) => c.name);
  const completed = terminal ? 'PodCompleted' : undefined;

  const ours: PodCondition[] = [
    { type: 'PodReadyToStartContainers', status: record.sandboxReady && !record.finished ? 'True' : 'False' },
    initialized
      ? { type: 'Initialized', status: 'True', ...(completed && { reason: completed }) }
      : {
          type: 'Initialized',
          status: 'False',
          reason: 'ContainersNotInitialized',
          message: `containers with incomplete status: [${incompleteInit.join(' ')}]`,
        },
    readiness('ContainersReady', unready, completed),
    readiness('Ready', unready, completed),
  ];
  if (record.failure?.disruptionReason && !stored.some((c) => c.type === 'DisruptionTarget')) {
    ours.push({
      type: 'DisruptionTarget',
      status: 'True',
      reason: record.failure.disruptionReason,
      message: record.failure.message,
    });
  }

  const conditions = mergeConditions(stored, ours, now);
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: record.hostIP,
    hostIPs: [{ ip: record.hostIP }],
    containerStatuses: record.containers.map((c) => containerStatus(c, terminal)),
  };
  const failure = record.failure ?? storedTerminalReason(pod);
  if (failure) {
    status.reason = failure.reason;
    status.message = failure.message;
  }
  if (record.podIP) {
    status.podIP = record.podIP;
    status.podIPs = [{ ip: record.podIP }];
  }
  if (record.startTime) status.startTime = record.startTime;
  if (record.initContainers.length > 0) {
    status.initContainerStatuses = record.initContainers.map((c) => containerStatus(c, terminal));
  }
  return status;
}

/**
 * The phase, following the kubelet's rules: init containers first; a container waiting to be
 * restarted counts as stopped; restartPolicy decides what all-stopped means; a deleted pod whose
 * processes have all ended is terminal; a terminal phase never changes again.
 */
function podPhase(pod: V1Pod, record: PodRecord): PodStatus['phase'] {
  const storedPhase = pod.status?.phase;
  if (storedPhase === 'Succeeded' || storedPhase === 'Failed') return storedPhase;
  if (record.failure) return 'Failed';
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const allSucceeded = record.initContainers.every(succeeded) && record.containers.every(succeeded);
  if (record.deleting && record.finished) return allSucceeded ? 'Succeeded' : 'Failed';

  const initFailed = record.initContainers.some(
    (c) => c.state.kind === 'terminated' && c.state.exitCode !== 0,
  );
  if (initFailed && policy === 'Never') return 'Failed';
  if (!record.initContainers.every(succeeded)) return 'Pending';

  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeededCount = 0;
  for (const c of record.containers) {
    if (c.state.kind === 'running') running++;
    else if (c.state.kind === 'terminated') {
      stopped++;
      if (c.state.exitCode === 0) succeededCount++;
    } else if (c.lastTerminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped === 0) return 'Pending';
  if (policy === 'Always') return 'Running';
  if (stopped === succeededCount) return 'Succeeded';
  if (policy === 'Never') return 'Failed';
  return 'Running';
}

/** Stored conditions with ours replaced; lastTransitionTime kept while a condition's status holds. */
function mergeConditions(stored: PodCondition[], ours: PodCondition[], now: Date): PodCondition[] {
  const stamp = rfc3339(now);
  const byType = new Map(stored.map((c) => [c.type, c]));
  const result = stored.filter((c) => !ours.some((o) => o.type === c.type));
  for (const condition of ours) {
    const previous = byType.get(condition.type);
    const since = previous && previous.status === condition.status ? previous.lastTransitionTime : undefined;
    result.push({ ...condition, lastProbeTime: null, lastTransitionTime: since ?? stamp });
  }
  return result;
}

export function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---- helpers ----

function succeeded(c: ContainerRecord): boolean {
  return c.state.kind === 'terminated' && c.state.exitCode === 0;
}

function isReady(c: ContainerRecord, terminal: boolean): boolean {
  return !terminal && c.state.kind === 'running';
}

function readiness(type: string, unready: string[], completed: string | undefined): PodCondition {
  if (unready.length === 0) return { type, status: 'True' };
  return {
    type,
    status: 'False',
    reason: completed ?? 'ContainersNotReady',
    message: `containers with unready status: [${unready.join(' ')}]`,
  };
}

function containerStatus(c: ContainerRecord, terminal: boolean): ContainerStatus {
  const pid = c.state.kind === 'waiting' ? undefined : c.state.pid;
  const status: ContainerStatus = {
    name: c.name,
    image: c.image,
    imageID: RUNTIME_PREFIX + c.image,
    ready: isReady(c, terminal),
    started: c.state.kind === 'running',
    restartCount: c.restartCount,
    state: stateJson(c.state),
    lastState: c.lastTerminated ? stateJson(c.lastTerminated) : {},
  };
  if (pid !== undefined) status.containerID = RUNTIME_PREFIX + pid;
  return status;
}

function stateJson(state: ContainerState): Record<string, unknown> {
  switch (state.kind) {
    case 'waiting':
      return { waiting: { reason: state.reason, ...(state.message && { message: state.message }) } };
    case 'running':
      return { running: { startedAt: state.startedAt } };
    case 'terminated': {
      const terminated: Record<string, unknown> = {
        exitCode: state.exitCode,
        reason: state.reason,
        finishedAt: state.finishedAt,
      };
      if (state.signal !== undefined) terminated.signal = state.signal;
      if (state.message) terminated.message = state.message;
      if (state.startedAt) terminated.startedAt = state.startedAt;
      if (state.pid !== undefined) terminated.containerID = RUNTIME_PREFIX + state.pid;
      return { terminated };
    }
  }
}

/** A condition read from the API, where times may be Date objects or strings. */
function plainCondition(c: NonNullable<NonNullable<V1Pod['status']>['conditions']>[number]): PodCondition {
  const condition: PodCondition = { type: c.type, status: c.status as PodCondition['status'] };
  if (c.reason) condition.reason = c.reason;
  if (c.message) condition.message = c.message;
  if (c.lastTransitionTime) condition.lastTransitionTime = timeString(c.lastTransitionTime);
  if (c.lastProbeTime) condition.lastProbeTime = timeString(c.lastProbeTime);
  if (c.observedGeneration !== undefined) condition.observedGeneration = c.observedGeneration;
  return condition;
}

function storedTerminalReason(pod: V1Pod): { reason: string; message: string } | undefined {
  const { phase, reason, message } = pod.status ?? {};
  if ((phase === 'Succeeded' || phase === 'Failed') && reason) return { reason, message: message ?? '' };
  return undefined;
}

/** Client-node gives Date objects from typed calls and strings from watch events. */
function timeString(time: Date | string): string {
  return typeof time === 'string' ? time : rfc3339(time);
}
