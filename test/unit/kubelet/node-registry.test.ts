import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { V1Pod } from '@kubernetes/client-node';

import { parseNodeFlag } from '../../../hack/kubelet/flags.js';
import { leaseSpec, nodeLabels, nodeStatusPatch } from '../../../hack/kubelet/node-registry.js';
import { workerModeFor } from '../../../hack/kubelet/pod-manager.js';

const host = {
  kubeletVersion: 'v1.36.3',
  port: 10250,
  machineID: 'm',
  bootID: 'b',
  kernelVersion: 'k',
  osImage: 'o',
};
const NOW = new Date('2026-11-28T05:00:00.123Z');

describe('nodeStatusPatch', () => {
  const spec = parseNodeFlag('local-0:cpu=4,memory=8Gi,nvidia.com/gpu=1');

  it('reports capacity, allocatable, addresses, endpoint, node info and healthy conditions', () => {
    const patch = nodeStatusPatch(spec, host, undefined, NOW);
    assert.deepEqual(patch.capacity, {
      cpu: '4',
      memory: '8Gi',
      pods: '110',
      'ephemeral-storage': '100Gi',
      'nvidia.com/gpu': '1',
    });
    assert.deepEqual(patch.allocatable, patch.capacity);
    assert.deepEqual(patch.addresses, [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: 'local-0' },
    ]);
    assert.deepEqual(patch.daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
    assert.equal(patch.nodeInfo.kubeletVersion, 'v1.36.3');
    assert.equal(patch.nodeInfo.containerRuntimeVersion, 'brewery-local://0.1');
    assert.deepEqual(
      patch.conditions.map((c) => [c.type, c.status, c.lastHeartbeatTime, c.lastTransitionTime]),
      [
        ['Ready', 'True', '2026-11-28T05:00:00Z', '2026-11-28T05:00:00Z'],
        ['MemoryPressure', 'False', '2026-11-28T05:00:00Z', '2026-11-28T05:00:00Z'],
        ['DiskPressure', 'False', '2026-11-28T05:00:00Z', '2026-11-28T05:00:00Z'],
        ['PIDPressure', 'False', '2026-11-28T05:00:00Z', '2026-11-28T05:00:00Z'],
      ],
    );
  });

  it('leaves lastTransitionTime alone for a condition that holds, and removes resources no longer given', () => {
    const stored = {
      status: {
        capacity: { cpu: '4', 'example.com/fpga': '2' },
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    };
    const patch = nodeStatusPatch(spec, host, stored, NOW);
    assert.equal(patch.capacity['example.com/fpga'], null);
    const ready = patch.conditions.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.lastTransitionTime, undefined);
  });
});

describe('node labels and lease', () => {
  it('labels a node as a local linux/amd64 host', () => {
    assert.deepEqual(nodeLabels('n'), {
      'kubernetes.io/hostname': 'n',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'brewery.dev/local-node': 'true',
    });
  });
  it('renews a lease held by the node with a microsecond renew time', () => {
    assert.deepEqual(leaseSpec('n', NOW), {
      holderIdentity: 'n',
      leaseDurationSeconds: 40,
      renewTime: '2026-11-28T05:00:00.123000Z',
    });
  });
});

describe('workerModeFor', () => {
  const cases: Array<[string, V1Pod['status'], string]> = [
    ['a new pod is run', {}, 'run'],
    ['a pending pod with no start time is run', { phase: 'Pending' }, 'run'],
    [
      'a pod with a start time was started by an earlier run',
      { phase: 'Running', startTime: new Date() },
      'orphan',
    ],
    [
      'a pod with a started container was started by an earlier run',
      {
        phase: 'Pending',
        containerStatuses: [
          { name: 'c', image: 'i', imageID: '', ready: false, restartCount: 0, containerID: 'x' },
        ],
      },
      'orphan',
    ],
    ['a succeeded pod is left as it is', { phase: 'Succeeded', startTime: new Date() }, 'terminal'],
    ['a failed pod is left as it is', { phase: 'Failed' }, 'terminal'],
  ];
  for (const [name, status, mode] of cases) {
    it(name, () => assert.equal(workerModeFor({ metadata: { uid: 'u' }, status }), mode));
  }
});
