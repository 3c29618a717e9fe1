// Pods on the local cluster are real processes run by the local kubelet, and the real scheduler and
// controller-manager act on them: Jobs complete, the scheduler preempts for a GPU, a NoExecute taint
// evicts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { BatchV1Api, CoreV1Api, SchedulingV1Api, type V1Pod, type V1PodSpec } from '@kubernetes/client-node';

import { type LocalCluster, localCluster, skipReason } from '../../support/cluster.js';
import { disruptionOf, isNotFound, recordPod, waitFor, withTimeout } from '../../support/wait.js';

const namespace = 'brewery-test-workloads';

describe('workloads on the local cluster', { skip: skipReason }, () => {
  let cluster: LocalCluster;
  let core: CoreV1Api;
  let batch: BatchV1Api;
  let gpuNodes: string[];

  before(async () => {
    cluster = localCluster();
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    batch = cluster.kubeConfig.makeApiClient(BatchV1Api);
    gpuNodes = cluster.nodes.filter((n) => n.gpus === 1).map((n) => n.name);
    assert.ok(gpuNodes.length >= 2, 'the default local cluster has two one-GPU nodes');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await waitFor('the namespace default service account', () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace }),
    );
  });

  after(async () => {
    if (!cluster) return;
    await core.deleteNamespace({ name: namespace }).catch(() => {});
  });

  const readPod = (name: string) => core.readNamespacedPod({ name, namespace });
  const podGone = (name: string) =>
    readPod(name).then(
      () => undefined,
      (error: unknown) => (isNotFound(error) ? true : undefined),
    );

  test('a Job runs to completion as a real process, and kubectl logs shows its output', async () => {
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'hello' },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'main',
                  image: 'busybox',
                  command: ['sh', '-c', 'echo "hello from $POD_NAME on $NODE_NAME"; echo $$ > /dev/null'],
                },
              ],
            },
          },
        },
      },
    });
    const job = await waitFor(
      'the Job to succeed',
      async () => {
        const got = await batch.readNamespacedJob({ name: 'hello', namespace });
        return got.status?.succeeded === 1 ? got : undefined;
      },
      90,
    );
    assert.ok(job.status?.completionTime, 'the job controller recorded the completion');
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'job-name=hello' });
    assert.equal(pods.items.length, 1);
    const pod = pods.items[0]!;
    assert.equal(pod.status?.phase, 'Succeeded');
    assert.equal(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    assert.match(pod.status?.podIP ?? '', /^127\./, 'the pod has its own loopback address');
    const { stdout } = await cluster.kubectl(['logs', '-n', namespace, pod.metadata!.name!]);
    assert.match(stdout, new RegExp(`hello from ${pod.metadata!.name} on ${pod.spec!.nodeName}`));
  });

  test('a failing container reports its exit code and termination message', async () => {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'fails' },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'main',
              image: 'busybox',
              command: ['sh', '-c', 'echo "bad prototxt" > "$BREWERY_TERMINATION_MESSAGE_PATH"; exit 65'],
            },
          ],
        },
      },
    });
    const pod = await waitFor('the pod to fail', async () => {
      const got = await readPod('fails');
      return got.status?.phase === 'Failed' ? got : undefined;
    });
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.exitCode, 65);
    assert.equal(terminated?.message?.trim(), 'bad prototxt');
  });

  test('the scheduler preempts a GPU pod for a higher-priority one, and the first pod ends', async () => {
    const scheduling = cluster.kubeConfig.makeApiClient(SchedulingV1Api);
    for (const [name, value] of [
      ['brewery-test-low', 100],
      ['brewery-test-high', 1000],
    ] as const) {
      await scheduling
        .createPriorityClass({ body: { metadata: { name }, value } })
        .catch((error: unknown) => {
          if ((error as { code?: number }).code !== 409) throw error;
        });
    }
    const node = gpuNodes[0]!;
    const gpuPod = (name: string, priorityClassName: string): V1Pod => ({
      metadata: { name },
      spec: {
        restartPolicy: 'Never',
        priorityClassName,
        terminationGracePeriodSeconds: 5,
        nodeSelector: { 'kubernetes.io/hostname': node },
        containers: [
          {
            name: 'trainer',
            image: 'busybox',
            command: ['sh', '-c', 'trap "echo got SIGTERM; exit 0" TERM; while true; do sleep 0.2; done'],
            resources: { limits: { 'nvidia.com/gpu': '1' } },
          },
        ],
      } satisfies V1PodSpec,
    });

    await core.createNamespacedPod({ namespace, body: gpuPod('trainer', 'brewery-test-low') });
    await waitFor('the trainer pod to run', async () =>
      (await readPod('trainer')).status?.phase === 'Running' ? true : undefined,
    );

    // Record every version of the first pod: the preemption condition must be seen before it goes.
    const trainer = await recordPod(cluster.kubeConfig, namespace, 'trainer');
    await core.createNamespacedPod({ namespace, body: gpuPod('urgent', 'brewery-test-high') });
    await withTimeout(trainer.deleted, 90, 'the preempted pod to be deleted');
    trainer.stop();
    const disruption = disruptionOf(trainer.seen);
    const last = trainer.seen.at(-1);
    assert.equal(
      last?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode,
      0,
      'the trainer exited on SIGTERM',
    );
    assert.equal(disruption?.status, 'True');
    assert.equal(disruption?.reason, 'PreemptionByScheduler');
    const urgent = await waitFor('the high-priority pod to run', async () => {
      const pod = await readPod('urgent');
      return pod.status?.phase === 'Running' ? pod : undefined;
    });
    assert.equal(urgent.spec?.nodeName, node);
    await core.deleteNamespacedPod({ name: 'urgent', namespace, gracePeriodSeconds: 0 });
  });

  test('a NoExecute taint evicts the pods on a node', async () => {
    const node = gpuNodes[1]!;
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'evictee' },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 2,
          nodeSelector: { 'kubernetes.io/hostname': node },
          containers: [{ name: 'main', image: 'busybox', command: ['sleep', '600'] }],
        },
      },
    });
    await waitFor('the pod to run', async () =>
      (await readPod('evictee')).status?.phase === 'Running' ? true : undefined,
    );
    const evictee = await recordPod(cluster.kubeConfig, namespace, 'evictee');
    await cluster.kubectl(['taint', 'node', node, 'brewery.dev/test=evict:NoExecute']);
    try {
      await withTimeout(evictee.deleted, 90, 'the pod to be evicted');
    } finally {
      evictee.stop();
      await cluster.kubectl(['taint', 'node', node, 'brewery.dev/test=evict:NoExecute-']);
    }
    const disruption = disruptionOf(evictee.seen);
    assert.equal(disruption?.reason, 'DeletionByTaintManager');
    assert.equal(await podGone('evictee'), true);
  });
});
