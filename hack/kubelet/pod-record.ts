// The kubelet's own record of a pod when its worker starts (pod-status.ts turns it into the status), and
// the record of a pod an earlier kubelet run started, whose processes are gone.

import type { V1Container, V1Pod } from '@kubernetes/client-node';

import { type ContainerRecord, type PodRecord, rfc3339, type TerminatedState } from './pod-status.js';

/** Every pod runs on the host's loopback; its own IP comes from the IP pool. */
export const HOST_IP = '127.0.0.1';

/** A pod not yet started: init containers wait for PodInitializing, the others for ContainerCreating. */
export function newPodRecord(pod: V1Pod, finished: boolean): PodRecord {
  const record = (c: V1Container, reason: string): ContainerRecord => ({
    name: c.name,
    image: c.image ?? '',
    state: { kind: 'waiting', reason },
    restartCount: 0,
  });
  return {
    sandboxReady: false,
    hostIP: HOST_IP,
    initContainers: (pod.spec?.initContainers ?? []).map((c) => record(c, 'PodInitializing')),
    containers: (pod.spec?.containers ?? []).map((c) => record(c, 'ContainerCreating')),
    finished,
    deleting: false,
  };
}

/** Marks a pod whose processes an earlier kubelet run started, and lost, as Failed (NodeRestarted). */
export function markOrphaned(record: PodRecord, pod: V1Pod, now: Date): void {
  const unknown: TerminatedState = {
    kind: 'terminated',
    exitCode: 137,
    reason: 'ContainerStatusUnknown',
    message: 'The container could not be located when the pod was terminated',
    finishedAt: rfc3339(now),
  };
  for (const c of [...record.initContainers, ...record.containers]) c.state = unknown;
  const started = pod.status?.startTime;
  if (started) record.startTime = typeof started === 'string' ? started : rfc3339(started);
  record.podIP = pod.status?.podIP;
  record.finished = true;
  record.failure = {
    reason: 'NodeRestarted',
    message: 'The kubelet restarted and the processes of this pod were gone.',
    disruptionReason: 'TerminationByKubelet',
  };
}
