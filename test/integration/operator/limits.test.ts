// Pods within their limits on the local cluster: the local kubelet puts every container in a cgroup
// with its memory limit and CPU quota. A trainer over its memory limit is OOMKilled (as a real kubelet
// reports it) and its job says which field to raise; the mini CaffeNet trains within 1 GiB and
// CaffeNet at batch 32 within 4 GiB; a prep worker with `cpu: 1` decodes one image at a time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { layoutFromProcCgroup } from '../../../hack/kubelet/cgroup-plan.js';
import { DATASETS } from '../../../operator/dataset/controller.js';
import { jobName } from '../../../operator/dataset/jobs.js';
import { type KubeClient, kubeClient } from '../../../operator/runtime/kube-client.js';
import { TRAINING_JOBS } from '../../../operator/training/controller.js';
import { PODS } from '../../../operator/workloads.js';
import { type LocalCluster, localCluster, skipReason } from '../../support/cluster.js';
import { type ObjectStore, objectStore } from '../../support/object-store.js';
import {
  eventually,
  installCrds,
  makeNamespace,
  repositoryRoot,
  runOperatorInProcess,
  stageSampleSource,
} from './support.js';

interface JobStatus {
  phase?: string;
  iteration?: number;
  pod?: string;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}
interface TerminatedState {
  exitCode?: number;
  reason?: string;
}

const GiB = 2 ** 30;

/** The local kubelet enforces limits only where it can make cgroups: as root, on a cgroup v1 or v2 node. */
function cgroupSkipReason(): string | undefined {
  if (skipReason) return skipReason;
  if (process.getuid?.() !== 0)
    return 'not root: the local kubelet cannot make cgroups, so limits are not enforced';
  const layout = layoutFromProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  return layout ? undefined : 'no memory and cpu cgroups on this machine: limits are not enforced';
}

/** A few iterations and no test pass: this measures memory, not learning. */
const solver = (maxIter: number) => `base_lr: 0.001
momentum: 0.9
lr_policy: "fixed"
display: 1
max_iter: ${maxIter}
test_iter: 1
test_interval: 100000
test_initialization: false
snapshot_prefix: "replaced/by/the/operator"
random_seed: 1701
solver_mode: CPU
`;

describe('pods within their limits on the local cluster', { skip: cgroupSkipReason() }, () => {
  let cluster: LocalCluster;
  let namespace = '';
  let cleanUp = async () => {};
  let client: KubeClient;
  let store: ObjectStore;
  let removeSample = () => {};
  let stopOperator = async () => {};
  let out = '';

  const getStatus = async (name: string) =>
    ((await client.get(TRAINING_JOBS, namespace, name))?.status ?? {}) as JobStatus;
  const finished = (name: string, seconds: number) =>
    eventually(
      `job ${name} to be Succeeded or Failed`,
      async () => {
        const status = await getStatus(name);
        return status.phase === 'Succeeded' || status.phase === 'Failed' ? status : undefined;
      },
      seconds * 1000,
      1000,
    );
  const trainerTerminated = async (podName: string) => {
    const pod = await client.get(PODS, namespace, podName);
    const statuses = (pod?.status as { containerStatuses?: { state?: { terminated?: TerminatedState } }[] })
      ?.containerStatuses;
    return statuses?.[0]?.state?.terminated;
  };
  const logsOf = async (pod: string) => (await cluster.kubectl(['logs', '-n', namespace, pod])).stdout;
  const createJob = (name: string, spec: Record<string, unknown>) =>
    client.create(TRAINING_JOBS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'CaffeTrainingJob',
      metadata: { name, namespace },
      spec: {
        dataset: { name: 'sample' },
        credentials: { secretName: 'object-store' },
        snapshotURI: `${out}/${name}/snap`,
        restartPolicy: { maxRestarts: 0, backoffSeconds: 1, maxBackoffSeconds: 1 },
        // The backend under test, when one is asked for: memory differs between wasm and native.
        ...(process.env.BREWERY_BACKEND && {
          env: [{ name: 'BREWERY_BACKEND', value: process.env.BREWERY_BACKEND }],
        }),
        ...spec,
      },
    });
  /** The trainer's own peak RSS, from the line `caffe train` logs as it ends. */
  const peakRss = async (pod: string) => {
    const logs = await logsOf(pod);
    const match = /Peak resident set size: \d+ MiB \((\d+) bytes\)/.exec(logs);
    assert.ok(match, `no peak RSS line in the trainer's log:\n${logs.slice(-2000)}`);
    return Number(match[1]);
  };

  before(async () => {
    cluster = localCluster();
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'limits');
    client = kubeClient(cluster.kubeConfig);
    store = await objectStore();
    const staged = await stageSampleSource(cluster, store, namespace, 'limits', {
      classes: 3,
      perClass: 4,
      valPerClass: 2,
      seed: 5,
      width: 64,
      height: 64,
      brokenPerKind: 0,
    });
    removeSample = staged.removeLocal;
    out = `s3://limits-out/${namespace}`;
    stopOperator = await runOperatorInProcess(client, 'limits');
    // 256x256 records, as CaffeNet's 227x227 crop needs (the mini CaffeNet crops 56x56 of them).
    await client.create(DATASETS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'ImageNetDataset',
      metadata: { name: 'sample', namespace },
      spec: {
        source: { uri: `s3://limits-raw/${namespace}` },
        valLabels: relative(staged.dir, staged.tree.valLabels),
        output: `${out}/sample`,
        size: 256,
        shards: 1,
        credentials: { secretName: 'object-store' },
        worker: { resources: { cpu: '1', memory: '1Gi' } },
      },
    });
  });

  after(async () => {
    await stopOperator();
    removeSample();
    await cleanUp();
  });

  test('a prep worker with cpu: 1 decodes one image at a time', async () => {
    const status = await eventually(
      'the dataset to be Ready or Failed',
      async () => {
        const s = (await client.get(DATASETS, namespace, 'sample'))?.status as { phase?: string } | undefined;
        return s?.phase === 'Ready' || s?.phase === 'Failed' ? s : undefined;
      },
      300_000,
      1000,
    );
    assert.equal(status.phase, 'Ready', JSON.stringify(status));
    const listed = await cluster.kubectl([
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      `job-name=${jobName('sample', 'prep')}`,
      '-o',
      'name',
    ]);
    const pods = listed.stdout.split('\n').filter(Boolean);
    assert.equal(pods.length, 1, listed.stdout);
    const logs = await logsOf(pods[0]!.replace('pod/', ''));
    assert.match(
      logs,
      /imagenet-prep\.ts:1\] Decoding 1 images at once: 1 threads \(--threads; cgroup CPU quota 1\)/,
    );
  });

  test('a trainer over its memory limit is OOMKilled, and the job says which field to raise', async () => {
    await createJob('oom', {
      net: { builtin: 'mini_caffenet' },
      solver: { inline: solver(20) },
      resources: { cpu: '1', memory: '160Mi' },
    });
    const status = await finished('oom', 300);
    assert.equal(status.phase, 'Failed', JSON.stringify(status.conditions));
    const terminated = await trainerTerminated(status.pod!);
    assert.equal(terminated?.reason, 'OOMKilled');
    assert.equal(terminated?.exitCode, 137);
    const failed = status.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
    assert.match(
      failed?.message ?? '',
      /exit code 137: the trainer container was OOMKilled at its memory limit of 160Mi: raise spec\.resources\.memory/,
    );
  });

  test('the mini CaffeNet trains within a 1 GiB limit', async (t) => {
    await createJob('mini', {
      net: { builtin: 'mini_caffenet' },
      solver: { inline: solver(10) },
      resources: { cpu: '1', memory: '1Gi' },
    });
    const status = await finished('mini', 300);
    assert.equal(status.phase, 'Succeeded', JSON.stringify(status.conditions));
    assert.equal((await trainerTerminated(status.pod!))?.reason, 'Completed');
    const logs = await logsOf(status.pod!);
    // The operator's flags, and the cgroup the trainer read for itself, agree.
    assert.match(
      logs,
      /Sized to 1 threads \(--threads; cgroup CPU quota 1\), memory budget 1024 MiB \(--memory_budget; cgroup memory limit 1024 MiB\)/,
    );
    const peak = await peakRss(status.pod!);
    t.diagnostic(`mini CaffeNet: peak RSS ${Math.round(peak / 2 ** 20)} MiB of a 1024 MiB limit`);
    assert.ok(peak < GiB, `peak RSS ${peak} bytes is not below the 1 GiB limit`);
  });

  test('CaffeNet at batch 32 trains within a 4 GiB limit', async (t) => {
    // CaffeNet's own train_val with its TRAIN batch cut from 256 to 32 (its TEST net is never run).
    const caffenet = readFileSync(
      join(repositoryRoot(), 'trainer/models/bvlc_reference_caffenet/train_val.prototxt'),
      'utf8',
    );
    const net = caffenet.replace('batch_size: 256', 'batch_size: 32');
    assert.notEqual(net, caffenet);
    await createJob('caffenet', {
      net: { inline: net },
      solver: { inline: solver(2) },
      resources: { cpu: '2', memory: '4Gi' },
    });
    const status = await finished('caffenet', 900);
    assert.equal(status.phase, 'Succeeded', JSON.stringify(status.conditions));
    assert.equal((await trainerTerminated(status.pod!))?.reason, 'Completed');
    const peak = await peakRss(status.pod!);
    t.diagnostic(`CaffeNet batch 32: peak RSS ${Math.round(peak / 2 ** 20)} MiB of a 4096 MiB limit`);
    assert.ok(peak < 4 * GiB, `peak RSS ${peak} bytes is not below the 4 GiB limit`);
  });
});
