// CaffeTrainingJobs and an ImageNetDataset under the real Kueue (hack/cluster kueue up, stopped and
// removed again at the end): a ClusterQueue of one GPU admits one job at a time, a higher-priority job
// preempts a running one through Kueue, the preempted job resumes from its snapshot, and a dataset's
// prep Job is admitted through Kueue's batch/Job integration.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { SchedulingV1Api } from '@kubernetes/client-node';

import { DATASETS } from '../../../operator/dataset/controller.js';
import { ADMISSION_GATE, WORKLOADS } from '../../../operator/kueue.js';
import { type KubeClient, kubeClient } from '../../../operator/runtime/kube-client.js';
import { TRAINING_JOBS } from '../../../operator/training/controller.js';
import { PODS } from '../../../operator/workloads.js';
import { MIN_ITERATION_MS } from '../../../trainer/test-pace.js';
import { type LocalCluster, localCluster, skipReason } from '../../support/cluster.js';
import { type ObjectStore, objectStore } from '../../support/object-store.js';
import { TINY_NET } from '../../support/tiny-net.js';
import { eventsAbout } from '../../support/wait.js';
import {
  eventually,
  installCrds,
  makeNamespace,
  repositoryRoot,
  runOperatorInProcess,
  stageSampleSource,
} from './support.js';

const execFileAsync = promisify(execFile);

interface JobStatus {
  phase?: string;
  iteration?: number;
  latestSnapshot?: { iteration: number };
  restarts?: number;
  disruptions?: { total: number; byReason?: Record<string, number> };
  pod?: string;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

/** A floor under each iteration, so a job lasts long enough for the test to see it running, while few
 * iterations keep it short on a loaded machine. */
const paced = (minIterationMs: number) => ({
  env: [{ name: MIN_ITERATION_MS, value: String(minIterationMs) }],
});
const QUEUE = 'gpus';

const solver = (maxIter: number, snapshot: number) => `test_iter: 1
test_interval: ${maxIter}
base_lr: 0.01
lr_policy: "fixed"
display: 50
max_iter: ${maxIter}
snapshot: ${snapshot}
snapshot_prefix: "replaced/by/the/operator"
random_seed: 1701
solver_mode: CPU
`;

describe('Brewery under the real Kueue', { skip: skipReason }, () => {
  let cluster: LocalCluster;
  let namespace = '';
  let cleanUp = async () => {};
  let client: KubeClient;
  let store: ObjectStore;
  let removeSample = () => {};
  let stopOperator = async () => {};
  let out = '';
  let clusterQueue = '';
  const hackCluster = (...args: string[]) =>
    execFileAsync(join(repositoryRoot(), 'hack/cluster'), args, { env: cluster.env, maxBuffer: 16 << 20 });

  const getStatus = async (name: string) =>
    ((await client.get(TRAINING_JOBS, namespace, name))?.status ?? {}) as JobStatus;
  const waitForPhase = (name: string, phases: string[], seconds = 240) =>
    eventually(
      `job ${name} to be ${phases.join(' or ')}`,
      async () => {
        const status = await getStatus(name);
        return phases.includes(status.phase ?? '') ? status : undefined;
      },
      seconds * 1000,
      500,
    );
  const createJob = (
    name: string,
    priority: 'low' | 'high',
    maxIter: number,
    snapshot: number,
    minIterationMs = 25,
  ) =>
    client.create(TRAINING_JOBS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'CaffeTrainingJob',
      metadata: { name, namespace },
      spec: {
        ...paced(minIterationMs),
        net: { inline: TINY_NET },
        solver: { inline: solver(maxIter, snapshot) },
        dataset: { name: 'sample' },
        credentials: { secretName: 'object-store' },
        resources: { gpus: 1, cpu: '1', memory: '1Gi' },
        priorityClassName: `brewery-train-${priority}`,
        queueName: QUEUE,
        snapshotURI: `${out}/${name}/snap`,
        restartPolicy: { maxRestarts: 1, backoffSeconds: 1, maxBackoffSeconds: 2 },
      },
    });
  const podOf = async (name: string) => {
    const status = await getStatus(name);
    return status.pod ? client.get(PODS, namespace, status.pod) : undefined;
  };
  const runningCondition = (s: JobStatus) => s.conditions?.find((c) => c.type === 'Running');

  before(async () => {
    cluster = localCluster();
    await hackCluster('kueue', 'up');
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'kueue');
    client = kubeClient(cluster.kubeConfig);
    store = await objectStore();
    const staged = await stageSampleSource(cluster, store, namespace, 'kueue', {
      classes: 3,
      perClass: 6,
      valPerClass: 2,
      seed: 5,
      width: 40,
      height: 40,
      brokenPerKind: 0,
    });
    removeSample = staged.removeLocal;
    out = `s3://kueue-out/${namespace}`;
    const scheduling = cluster.kubeConfig.makeApiClient(SchedulingV1Api);
    for (const [name, value] of [
      ['brewery-train-low', 100],
      ['brewery-train-high', 1000],
    ] as const) {
      await scheduling
        .createPriorityClass({ body: { metadata: { name }, value } })
        .catch((error: unknown) => {
          if ((error as { code?: number }).code !== 409) throw error;
        });
    }
    // Quota for one GPU: one trainer at a time, whatever the nodes have.
    clusterQueue = `one-gpu-${namespace}`;
    await cluster.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'kueue.x-k8s.io/v1beta2',
            kind: 'ClusterQueue',
            metadata: { name: clusterQueue },
            spec: {
              namespaceSelector: {},
              preemption: { withinClusterQueue: 'LowerPriority' },
              resourceGroups: [
                {
                  coveredResources: ['cpu', 'memory', 'nvidia.com/gpu'],
                  flavors: [
                    {
                      name: 'default',
                      resources: [
                        { name: 'cpu', nominalQuota: '8' },
                        { name: 'memory', nominalQuota: '16Gi' },
                        { name: 'nvidia.com/gpu', nominalQuota: '1' },
                      ],
                    },
                  ],
                },
              ],
            },
          },
          {
            apiVersion: 'kueue.x-k8s.io/v1beta2',
            kind: 'LocalQueue',
            metadata: { name: QUEUE, namespace },
            spec: { clusterQueue },
          },
        ],
      }),
    );
    stopOperator = await runOperatorInProcess(client, 'kueue');
    await client.create(DATASETS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'ImageNetDataset',
      metadata: { name: 'sample', namespace },
      spec: {
        source: { uri: `s3://kueue-raw/${namespace}` },
        valLabels: relative(staged.dir, staged.tree.valLabels),
        output: `${out}/sample`,
        size: 32,
        shards: 1,
        credentials: { secretName: 'object-store' },
        queueName: QUEUE,
      },
    });
  });

  after(async () => {
    await stopOperator();
    removeSample();
    await cleanUp();
    if (clusterQueue) await cluster.kubectl(['delete', 'clusterqueue', clusterQueue, '--wait=false']);
    await hackCluster('kueue', 'down');
  });

  test("a dataset's prep Job queues and is admitted through Kueue", async () => {
    const ready = await eventually(
      'the dataset to be Ready',
      async () => {
        const phase = ((await client.get(DATASETS, namespace, 'sample'))?.status as { phase?: string })
          ?.phase;
        return phase === 'Ready' || phase === 'Failed' ? phase : undefined;
      },
      240_000,
      500,
    );
    assert.equal(ready, 'Ready');
    // A Workload carries its queue in spec.queueName, not in a label: all of them, then this namespace's.
    const { items } = await client.list(WORKLOADS);
    const ours = items.filter((w) => w.metadata?.namespace === namespace);
    const prep = ours.find((w) =>
      w.metadata?.ownerReferences?.some((o) => o.kind === 'Job' && o.name.endsWith('-prep')),
    );
    assert.ok(prep, `a Workload owned by the prep Job: ${ours.map((w) => w.metadata?.name).join(', ')}`);
    const conditions = (prep.status as { conditions?: { type: string; status: string }[] }).conditions ?? [];
    assert.ok(
      conditions.some((c) => c.type === 'Admitted' && c.status === 'True'),
      `the prep Job's Workload was admitted: ${JSON.stringify(conditions)}`,
    );
    const admission = (prep.status as { admission?: { clusterQueue?: string } }).admission;
    assert.equal(admission?.clusterQueue, clusterQueue);
  });

  test('with one GPU of quota, job A runs and job B waits Queued with Kueue’s message and no node; then B runs', async () => {
    // At least 30 s (200 iterations, 150 ms each): still running while B is seen queued.
    await createJob('job-a', 'low', 200, 1000, 150);
    await waitForPhase('job-a', ['Running']);
    await createJob('job-b', 'low', 300, 300);
    const queued = await waitForPhase('job-b', ['Queued'], 120);
    const message = runningCondition(queued)?.message ?? '';
    assert.match(message, new RegExp(`LocalQueue ${QUEUE} \\(ClusterQueue ${clusterQueue}\\)`));
    assert.match(message, /couldn't assign flavors|insufficient unused quota/, message);
    // B's pod exists only as Kueue's gated placeholder: not on a node, holding no GPU. (Kueue v0.17's
    // Pod webhook adds its topology gate beside the admission gate.)
    const gated = await podOf('job-b');
    const spec = gated?.spec as { nodeName?: string; schedulingGates?: { name: string }[] };
    assert.equal(spec.nodeName, undefined);
    const gates = spec.schedulingGates?.map((g) => g.name) ?? [];
    assert.ok(gates.includes(ADMISSION_GATE), `scheduling gates: ${gates.join(', ')}`);
    assert.equal((await getStatus('job-a')).phase, 'Running');

    const a = await waitForPhase('job-a', ['Succeeded', 'Failed']);
    assert.equal(a.phase, 'Succeeded', JSON.stringify(a.conditions));
    const b = await waitForPhase('job-b', ['Running', 'Succeeded', 'Failed']);
    assert.notEqual(b.phase, 'Failed', JSON.stringify(b.conditions));
    assert.equal((await waitForPhase('job-b', ['Succeeded', 'Failed'])).phase, 'Succeeded');
  });

  test('a high-priority job preempts a running one through Kueue, which resumes from its snapshot', async () => {
    // No periodic snapshot within its 600 iterations (at least 60 s): any snapshot it resumes from is the
    // one its trainer wrote when Kueue's eviction sent it SIGTERM.
    await createJob('victim', 'low', 600, 100_000, 100);
    await waitForPhase('victim', ['Running']);
    const firstPod = (await getStatus('victim')).pod;
    // Its status mirrors the trainer's record: wait until it has trained a while.
    await eventually(
      'victim training',
      async () => ((await getStatus('victim')).iteration ?? 0) >= 20 || undefined,
      180_000,
      500,
    );
    const iterationBefore = (await getStatus('victim')).iteration ?? 0;
    await createJob('urgent', 'high', 300, 300);
    const requeued = await waitForPhase('victim', ['Queued'], 180);
    assert.deepEqual(requeued.disruptions, { total: 1, byReason: { Kueue: 1 } });
    assert.notEqual(requeued.pod, firstPod);
    const urgent = await waitForPhase('urgent', ['Succeeded', 'Failed']);
    assert.equal(urgent.phase, 'Succeeded', JSON.stringify(urgent.conditions));

    const done = await waitForPhase('victim', ['Succeeded', 'Failed'], 300);
    assert.equal(done.phase, 'Succeeded', JSON.stringify(done.conditions));
    assert.equal(done.restarts ?? 0, 0);
    assert.deepEqual(done.disruptions, { total: 1, byReason: { Kueue: 1 } });
    const events = await eventsAbout(cluster.kubectl, namespace, 'victim');
    const disrupted = events.find((e) => e.reason === 'Disrupted');
    // Kueue's reason is WorkloadEvictedDueToPreempted (v0.17), WorkloadEvicted in older releases.
    assert.match(disrupted?.message ?? '', /\(Kueue\): WorkloadEvicted\w*: .*Preempted/i);
    // The replacement pod finds its snapshot itself (`caffe train --snapshot=latest`) and logs it.
    const log = (await cluster.kubectl(['logs', '-n', namespace, done.pod!])).stdout;
    const from = /\] Resuming from .*victim\/snap_iter_(\d+)\.solverstate$/m.exec(log);
    assert.ok(from, `the last trainer pod of victim resumes from a snapshot: ${log.slice(0, 2000)}`);
    // The snapshot it resumes from can only be its SIGTERM snapshot, taken after what the status showed.
    assert.ok(
      Number(from[1]) >= iterationBefore,
      `resumed at ${from[1]}, had trained ${iterationBefore} before`,
    );
    assert.ok(Number(from[1]) < 600, `resumed at ${from[1]}: a snapshot before the end`);
  });
});
