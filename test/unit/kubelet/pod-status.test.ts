import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { V1Pod, V1PodCondition } from '@kubernetes/client-node';

import {
  type ContainerRecord,
  computePodStatus,
  type PodRecord,
  type PodStatus,
} from '../../../hack/kubelet/pod-status.js';
import { statusPatch } from '../../../hack/kubelet/status-writer.js';

const NOW = new Date('2026-11-28T05:00:00.000Z');
const EARLIER = '2026-11-28T04:00:00Z';

function pod(
  restartPolicy: string,
  conditions: NonNullable<V1Pod['status']>['conditions'] = [],
  phase?: string,
): V1Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u' },
    spec: { restartPolicy, containers: [{ name: 'main', image: 'busybox' }] },
    status: { conditions, ...(phase && { phase }) },
  };
}

const running = (name = 'main', pid = 41): ContainerRecord => ({
  name,
  image: 'busybox',
  state: { kind: 'running', startedAt: EARLIER, pid },
  restartCount: 0,
});
const exited = (exitCode: number, name = 'main'): ContainerRecord => ({
  name,
  image: 'busybox',
  state: {
    kind: 'terminated',
    exitCode,
    reason: exitCode === 0 ? 'Completed' : 'Error',
    startedAt: EARLIER,
    finishedAt: EARLIER,
    pid: 41,
  },
  restartCount: 0,
});
const waiting = (reason: string, name = 'main'): ContainerRecord => ({
  name,
  image: 'busybox',
  state: { kind: 'waiting', reason },
  restartCount: 0,
});

function record(over: Partial<PodRecord>): PodRecord {
  return {
    sandboxReady: true,
    podIP: '127.1.0.1',
    hostIP: '127.0.0.1',
    startTime: EARLIER,
    initContainers: [],
    containers: [running()],
    finished: false,
    deleting: false,
    ...over,
  };
}

function condition(status: PodStatus, type: string) {
  return status.conditions.find((c) => c.type === type);
}

describe('computePodStatus phase', () => {
  const crashLooping: ContainerRecord = {
    ...waiting('CrashLoopBackOff'),
    restartCount: 2,
    lastTerminated: { kind: 'terminated', exitCode: 3, reason: 'Error', finishedAt: EARLIER },
  };
  const cases: Array<{
    name: string;
    policy: string;
    record: Partial<PodRecord>;
    phase: string;
    storedPhase?: string;
  }> = [
    { name: 'a pod whose container runs is Running', policy: 'Never', record: {}, phase: 'Running' },
    {
      name: 'a pod not yet set up is Pending',
      policy: 'Never',
      record: { sandboxReady: false, containers: [waiting('ContainerCreating')] },
      phase: 'Pending',
    },
    {
      name: 'a container that exited 0 under Never makes the pod Succeeded',
      policy: 'Never',
      record: { containers: [exited(0)] },
      phase: 'Succeeded',
    },
    {
      name: 'a container that exited 3 under Never makes the pod Failed',
      policy: 'Never',
      record: { containers: [exited(3)] },
      phase: 'Failed',
    },
    {
      name: 'a failed container under OnFailure waiting to restart keeps the pod Running',
      policy: 'OnFailure',
      record: { containers: [crashLooping] },
      phase: 'Running',
    },
    {
      name: 'a completed container under Always keeps the pod Running',
      policy: 'Always',
      record: { containers: [exited(0)] },
      phase: 'Running',
    },
    {
      name: 'one container still running while another failed is Running',
      policy: 'Never',
      record: { containers: [exited(1, 'a'), running('b')] },
      phase: 'Running',
    },
    {
      name: 'a pod being killed (deleted, processes not yet ended) stays Running',
      policy: 'Always',
      record: { deleting: true },
      phase: 'Running',
    },
    {
      name: 'a deleted pod whose container was killed is Failed',
      policy: 'Always',
      record: { deleting: true, finished: true, containers: [exited(143)] },
      phase: 'Failed',
    },
    {
      name: 'a deleted pod whose containers all exited 0 is Succeeded',
      policy: 'Always',
      record: { deleting: true, finished: true, containers: [exited(0)] },
      phase: 'Succeeded',
    },
    {
      name: 'a deleted pod that never started is Failed',
      policy: 'Never',
      record: { deleting: true, finished: true, containers: [waiting('ContainerCreating')] },
      phase: 'Failed',
    },
    {
      name: 'a failed init container under Never fails the pod',
      policy: 'Never',
      record: { initContainers: [exited(1, 'init')], containers: [waiting('PodInitializing')] },
      phase: 'Failed',
    },
    {
      name: 'a failed init container under OnFailure leaves the pod Pending',
      policy: 'OnFailure',
      record: { initContainers: [exited(1, 'init')], containers: [waiting('PodInitializing')] },
      phase: 'Pending',
    },
    {
      name: 'a running init container leaves the pod Pending',
      policy: 'Never',
      record: { initContainers: [running('init')], containers: [waiting('PodInitializing')] },
      phase: 'Pending',
    },
    {
      name: 'an image that is not mapped leaves the pod Pending',
      policy: 'Never',
      record: { containers: [waiting('ImageNotMapped')] },
      phase: 'Pending',
    },
    {
      name: 'a terminal phase already stored never changes',
      policy: 'Always',
      record: {},
      phase: 'Succeeded',
      storedPhase: 'Succeeded',
    },
    {
      name: 'a pod the kubelet fails after its restart is Failed with the reason',
      policy: 'Always',
      record: { finished: true, failure: { reason: 'NodeRestarted', message: 'gone' } },
      phase: 'Failed',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const status = computePodStatus(pod(c.policy, [], c.storedPhase), record(c.record), NOW);
      assert.equal(status.phase, c.phase);
    });
  }
});

describe('computePodStatus conditions and container statuses', () => {
  it('a running pod is Ready with podIP, hostIP and a running container status', () => {
    const status = computePodStatus(pod('Never'), record({}), NOW);
    assert.deepEqual(
      status.conditions.map((c) => [c.type, c.status]),
      [
        ['PodReadyToStartContainers', 'True'],
        ['Initialized', 'True'],
        ['ContainersReady', 'True'],
        ['Ready', 'True'],
      ],
    );
    assert.equal(status.podIP, '127.1.0.1');
    assert.deepEqual(status.podIPs, [{ ip: '127.1.0.1' }]);
    assert.deepEqual(status.hostIPs, [{ ip: '127.0.0.1' }]);
    assert.equal(status.startTime, EARLIER);
    assert.deepEqual(status.containerStatuses, [
      {
        name: 'main',
        image: 'busybox',
        imageID: 'brewery-local://busybox',
        containerID: 'brewery-local://41',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: EARLIER } },
        lastState: {},
      },
    ]);
  });

  it('a failed container reports its exit code, reason and message', () => {
    const failed = exited(3);
    if (failed.state.kind === 'terminated') failed.state.message = 'bad input';
    const status = computePodStatus(pod('Never'), record({ containers: [failed] }), NOW);
    assert.deepEqual(status.containerStatuses[0]!.state, {
      terminated: {
        exitCode: 3,
        reason: 'Error',
        message: 'bad input',
        startedAt: EARLIER,
        finishedAt: EARLIER,
        containerID: 'brewery-local://41',
      },
    });
    assert.equal(condition(status, 'Ready')!.reason, 'PodCompleted');
    assert.equal(condition(status, 'Ready')!.status, 'False');
  });

  it('keeps conditions others added, such as DisruptionTarget and PodScheduled, as they are', () => {
    const disruption = {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'PreemptionByScheduler',
      message: 'default-scheduler: preempting to accommodate a higher priority pod',
      lastTransitionTime: new Date(EARLIER),
    };
    // Watch events carry times as strings, typed calls as Date objects: both are read.
    const scheduled = {
      type: 'PodScheduled',
      status: 'True',
      lastTransitionTime: EARLIER,
    } as unknown as V1PodCondition;
    const status = computePodStatus(
      pod('Never', [scheduled, disruption]),
      record({ deleting: true, finished: true, containers: [exited(143)] }),
      NOW,
    );
    assert.deepEqual(condition(status, 'DisruptionTarget'), {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'PreemptionByScheduler',
      message: 'default-scheduler: preempting to accommodate a higher priority pod',
      lastTransitionTime: EARLIER,
    });
    assert.equal(condition(status, 'PodScheduled')!.status, 'True');
    assert.equal(status.phase, 'Failed');
  });

  it('keeps lastTransitionTime while a condition holds and stamps it when it changes', () => {
    const stored = [
      { type: 'Initialized', status: 'True', lastTransitionTime: new Date(EARLIER) },
      { type: 'Ready', status: 'False', lastTransitionTime: new Date(EARLIER) },
    ];
    const status = computePodStatus(pod('Never', stored), record({}), NOW);
    assert.equal(condition(status, 'Initialized')!.lastTransitionTime, EARLIER);
    assert.equal(condition(status, 'Ready')!.lastTransitionTime, '2026-11-28T05:00:00Z');
  });

  it('an incomplete init container is named in Initialized, and its status listed', () => {
    const status = computePodStatus(
      pod('Never'),
      record({ initContainers: [running('fetch')], containers: [waiting('PodInitializing')] }),
      NOW,
    );
    assert.deepEqual(
      {
        status: condition(status, 'Initialized')!.status,
        message: condition(status, 'Initialized')!.message,
      },
      { status: 'False', message: 'containers with incomplete status: [fetch]' },
    );
    assert.equal(status.initContainerStatuses![0]!.name, 'fetch');
    assert.deepEqual(status.containerStatuses[0]!.state, { waiting: { reason: 'PodInitializing' } });
  });

  it('a kubelet failure adds DisruptionTarget unless one is already there', () => {
    const failure = { reason: 'NodeRestarted', message: 'gone', disruptionReason: 'TerminationByKubelet' };
    const fresh = computePodStatus(pod('Never'), record({ finished: true, failure }), NOW);
    assert.equal(fresh.reason, 'NodeRestarted');
    assert.equal(condition(fresh, 'DisruptionTarget')!.reason, 'TerminationByKubelet');
    const existing = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager' };
    const kept = computePodStatus(pod('Never', [existing]), record({ finished: true, failure }), NOW);
    assert.equal(condition(kept, 'DisruptionTarget')!.reason, 'DeletionByTaintManager');
    assert.equal(kept.conditions.filter((c) => c.type === 'DisruptionTarget').length, 1);
  });

  it('a container waiting to restart shows its last termination and restart count', () => {
    const looping: ContainerRecord = {
      ...waiting('CrashLoopBackOff'),
      restartCount: 3,
      lastTerminated: { kind: 'terminated', exitCode: 2, reason: 'Error', finishedAt: EARLIER },
    };
    const status = computePodStatus(pod('Always'), record({ containers: [looping] }), NOW);
    const c = status.containerStatuses[0]!;
    assert.equal(c.restartCount, 3);
    assert.deepEqual(c.lastState, { terminated: { exitCode: 2, reason: 'Error', finishedAt: EARLIER } });
    assert.equal(c.ready, false);
  });
});

describe('statusPatch', () => {
  it('sends only the kubelet conditions, clearing a reason and message that no longer apply', () => {
    const stored = [
      {
        type: 'Ready',
        status: 'False',
        reason: 'ContainersNotReady',
        message: 'containers with unready status: [main]',
      },
      { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' },
    ] as unknown as V1PodCondition[];
    const patch = statusPatch(pod('Never', stored), record({}), [], NOW);
    assert.deepEqual(
      patch.conditions.map((c) => c.type),
      ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready'],
    );
    const ready = patch.conditions.find((c) => c.type === 'Ready')!;
    assert.deepEqual([ready.status, ready.reason, ready.message], ['True', null, null]);
  });

  it('adds DisruptionTarget to the patch when the kubelet itself ends the pod', () => {
    const failure = { reason: 'NodeRestarted', message: 'gone', disruptionReason: 'TerminationByKubelet' };
    const patch = statusPatch(pod('Never'), record({ finished: true, failure }), [], NOW);
    assert.equal(patch.conditions.find((c) => c.type === 'DisruptionTarget')?.reason, 'TerminationByKubelet');
  });
});
