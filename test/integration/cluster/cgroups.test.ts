// The local kubelet runs each container in a cgroup of its own with the container's limits: the
// program is in it from its first instruction, a container over its memory limit is OOMKilled with
// exit code 137 as a real kubelet reports it, and the cgroup is gone once the container has ended.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';

import {
  containerLimits,
  layoutFromProcCgroup,
  planContainerCgroup,
} from '../../../hack/kubelet/cgroup-plan.js';
import { type LocalCluster, localCluster, skipReason } from '../../support/cluster.js';
import { waitFor } from '../../support/wait.js';

const namespace = 'brewery-test-cgroups';

/** Prints the container's memory limit and CPU quota as its own cgroup files say, on v1 or v2. */
const PRINT_LIMITS = `
if grep -q ':memory:' /proc/self/cgroup; then
  m=$(grep ':memory:' /proc/self/cgroup | cut -d: -f3)
  c=$(grep -E ':cpu(,[a-z]+)*:' /proc/self/cgroup | cut -d: -f3)
  echo "memory $(cat /sys/fs/cgroup/memory$m/memory.limit_in_bytes)"
  echo "cpu $(cat /sys/fs/cgroup/cpu$c/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu$c/cpu.cfs_period_us)"
else
  p=$(cut -d: -f3 /proc/self/cgroup)
  echo "memory $(cat /sys/fs/cgroup$p/memory.max)"
  echo "cpu $(cat /sys/fs/cgroup$p/cpu.max)"
fi
cat /proc/self/cgroup`;

const layout = skipReason ? undefined : layoutFromProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));

function cgroupSkipReason(): string | undefined {
  if (skipReason) return skipReason;
  if (process.getuid?.() !== 0)
    return 'not root: the local kubelet cannot make cgroups, so limits are not enforced';
  return layout ? undefined : 'no memory and cpu cgroups on this machine: limits are not enforced';
}

describe('container limits enforced by the local kubelet', { skip: cgroupSkipReason() }, () => {
  let cluster: LocalCluster;
  let core: CoreV1Api;

  before(async () => {
    cluster = localCluster();
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await waitFor('the namespace default service account', () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace }),
    );
  });

  after(async () => {
    if (!cluster) return;
    await core.deleteNamespace({ name: namespace }).catch(() => {});
  });

  const runPod = async (name: string, script: string, limits: Record<string, string>): Promise<V1Pod> => {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name },
        spec: {
          restartPolicy: 'Never',
          containers: [
            { name: 'main', image: 'busybox', command: ['sh', '-c', script], resources: { limits } },
          ],
        },
      },
    });
    return waitFor(
      `pod ${name} to end`,
      async () => {
        const pod = await core.readNamespacedPod({ name, namespace });
        return pod.status?.containerStatuses?.[0]?.state?.terminated ? pod : undefined;
      },
      120,
    );
  };

  test('a container runs inside its own cgroup, limited as its spec says, removed when it ends', async () => {
    const limits = { memory: '96Mi', cpu: '500m' };
    const pod = await runPod('limited', PRINT_LIMITS, limits);
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.exitCode, 0, terminated?.message);
    const logs = (await cluster.kubectl(['logs', '-n', namespace, 'limited'])).stdout;
    assert.match(logs, new RegExp(`^memory ${96 * 2 ** 20}$`, 'm'));
    assert.match(logs, /^cpu 50000 100000$/m);
    const cgroup = `brewery-pods/${pod.metadata!.uid}_main`;
    assert.ok(logs.includes(cgroup), `the container's /proc/self/cgroup names ${cgroup}:\n${logs}`);
    // The kubelet removes the cgroup before it reports the container terminated.
    const plan = planContainerCgroup(layout!, `${pod.metadata!.uid}_main`, containerLimits(limits));
    for (const dir of plan.removeDirs) assert.equal(existsSync(dir), false, `${dir} is still there`);
  });

  test('a container over its memory limit is OOMKilled with exit code 137', async () => {
    // A shell string that doubles until the memory cgroup's OOM killer ends it.
    const pod = await runPod('hungry', 'x=0123456789abcdef; while true; do x="$x$x"; done', {
      memory: '64Mi',
    });
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.reason, 'OOMKilled');
    assert.equal(terminated?.exitCode, 137);
    assert.equal(pod.status?.phase, 'Failed');
  });

  test('a container that exits non-zero by itself within its limits is an Error, not OOMKilled', async () => {
    const pod = await runPod('failing', 'exit 3', { memory: '64Mi' });
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.reason, 'Error');
    assert.equal(terminated?.exitCode, 3);
  });
});
