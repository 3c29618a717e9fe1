// CaffeTrainingJob on the local cluster: a dataset made by the operator, real trainer pods (the
// `caffe` command run by the local kubelet), snapshots in the object server. Covers the end-to-end run
// with live status, preemption by a higher-priority GPU pod with an exact resume, node loss, failures
// with backoff, a bad prototxt, suspend and resume across an operator restart, and deletion.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { SchedulingV1Api } from '@kubernetes/client-node';

import { DATASETS } from '../../../operator/dataset/controller.js';
import { type KubeClient, type KubeObject, kubeClient } from '../../../operator/runtime/kube-client.js';
import { OperatorMetrics } from '../../../operator/runtime/metrics.js';
import { TRAINING_JOBS } from '../../../operator/training/controller.js';
import { PODS } from '../../../operator/workloads.js';
import { MIN_ITERATION_MS } from '../../../trainer/test-pace.js';
import { type LocalCluster, localCluster, skipReason } from '../../support/cluster.js';
import { type ObjectStore, objectStore } from '../../support/object-store.js';
import {
  createStoreSecret,
  eventually,
  installCrds,
  makeNamespace,
  reconcilesOf,
  runOperatorInProcess,
  stageSampleSource,
  storageWith,
} from './support.js';

interface JobStatus {
  phase?: string;
  iteration?: number;
  maxIter?: number;
  progress?: string;
  trainLoss?: number;
  accuracy?: number;
  testOutputs?: { name: string; value: number }[];
  latestSnapshot?: { iteration: number; caffemodel: string; solverstate: string };
  restarts?: number;
  disruptions?: { total: number; byReason?: Record<string, number> };
  pod?: string;
  conditions?: { type: string; status: string; reason: string; message: string }[];
  completionTime?: string;
}

const TINY_NET = `name: "TinyNet"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  transform_param { crop_size: 28 mirror: true scale: 0.00390625 mean_file: "mean.binaryproto" }
  data_param { source: "train_lmdb" batch_size: 4 backend: LMDB } }
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST }
  transform_param { crop_size: 28 scale: 0.00390625 mean_file: "mean.binaryproto" }
  data_param { source: "val_lmdb" batch_size: 2 backend: LMDB } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 5 stride: 2 weight_filler { type: "gaussian" std: 0.05 } } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "fc" type: "InnerProduct" bottom: "pool1" top: "fc"
  inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.05 } } }
layer { name: "accuracy" type: "Accuracy" bottom: "fc" bottom: "label" top: "accuracy" include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc" bottom: "label" top: "loss" }
`;

/**
 * For the jobs a test must see in the middle of their training (live status, preemption, suspend,
 * eviction): each iteration takes at least this long, so 1,500 iterations last at least 37 s on any
 * backend and machine. Without it the native backend trains the tiny net in seconds, before the
 * operator's status mirror or the cluster's preemption can act.
 */
const PACED = { env: [{ name: MIN_ITERATION_MS, value: '25' }] };

const solver = (maxIter: number, snapshot: number) => `test_iter: 3
test_interval: ${snapshot}
base_lr: 0.01
momentum: 0.9
lr_policy: "fixed"
display: 50
max_iter: ${maxIter}
snapshot: ${snapshot}
snapshot_prefix: "replaced/by/the/operator"
random_seed: 1701
solver_mode: CPU
`;

describe('CaffeTrainingJob on the local cluster', { skip: skipReason }, () => {
  let cluster: LocalCluster;
  let namespace = '';
  let cleanUp = async () => {};
  let client: KubeClient;
  let store: ObjectStore;
  let removeSample = () => {};
  let stopOperator = async () => {};
  let out = '';
  let valLabels = '';
  let readObject: (uri: string) => Promise<Buffer>;

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
  const createJob = (name: string, spec: Record<string, unknown>) =>
    client.create(TRAINING_JOBS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'CaffeTrainingJob',
      metadata: { name, namespace },
      spec: {
        net: { inline: TINY_NET },
        dataset: { name: 'sample' },
        credentials: { secretName: 'object-store' },
        resources: { gpus: 1, cpu: '1', memory: '1Gi' },
        priorityClassName: 'brewery-train-low',
        restartPolicy: { maxRestarts: 2, backoffSeconds: 1, maxBackoffSeconds: 4 },
        ...spec,
      },
    });
  const podOf = async (name: string) => {
    const status = await getStatus(name);
    return status.pod ? client.get(PODS, namespace, status.pod) : undefined;
  };
  const runningPod = (name: string) =>
    eventually(
      `a running trainer pod of ${name}`,
      async () => {
        const pod = await podOf(name);
        const phase = (pod?.status as { phase?: string } | undefined)?.phase;
        return phase === 'Running' && !pod?.metadata?.deletionTimestamp ? pod : undefined;
      },
      120_000,
      250,
    );
  /** Waits until the job has a complete snapshot past the given iteration. */
  const snapshotPast = (name: string, iteration: number) =>
    eventually(
      `a snapshot of ${name} past iteration ${iteration}`,
      async () => {
        const { findLatestSnapshot } = await import('../../../trainer/contract/snapshots.js');
        const { storageFor } = await import('../../../trainer/storage/index.js');
        const prefix = `${out}/${name}/snap`;
        const latest = await findLatestSnapshot(prefix, storageFor(prefix));
        return latest && latest.iteration > iteration ? latest : undefined;
      },
      180_000,
      250,
    );
  /** The solverstate a trainer pod's log says it resumed from (`caffe train --snapshot=latest` finds it). */
  const resumedFrom = async (ns: string, pod: string) => {
    const { stdout } = await cluster.kubectl(['logs', '-n', ns, pod]);
    return /\] Resuming from (\S+)$/m.exec(stdout)?.[1];
  };
  const sha = async (uri: string) =>
    createHash('sha256')
      .update(await readObject(uri))
      .digest('hex');

  before(async () => {
    cluster = localCluster();
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'training');
    client = kubeClient(cluster.kubeConfig);
    store = await objectStore();
    const storageFor = await storageWith(store);
    readObject = (uri) => storageFor(uri).read(uri);
    const staged = await stageSampleSource(cluster, store, namespace, 'training', {
      classes: 3,
      perClass: 8,
      valPerClass: 2,
      seed: 11,
      width: 40,
      height: 40,
      brokenPerKind: 0,
    });
    removeSample = staged.removeLocal;
    valLabels = relative(staged.dir, staged.tree.valLabels);
    out = `s3://training-out/${namespace}`;
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
    stopOperator = await runOperatorInProcess(client, 'training');
    await client.create(DATASETS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'ImageNetDataset',
      metadata: { name: 'sample', namespace },
      spec: {
        source: { uri: `s3://training-raw/${namespace}` },
        valLabels,
        output: `${out}/sample`,
        size: 32,
        shards: 1,
        credentials: { secretName: 'object-store' },
      },
    });
  });

  after(async () => {
    await stopOperator();
    removeSample();
    await cleanUp();
  });

  test('a job waits for its dataset, trains with live status, and a preempted twin resumes to the same weights', async () => {
    await createJob('steady', {
      ...PACED,
      solver: { inline: solver(2000, 200) },
      snapshotURI: `${out}/steady/snap`,
    });
    const waiting = await waitForPhase('steady', ['WaitingForData', 'Pending', 'Running'], 30);
    if (waiting.phase === 'WaitingForData') {
      assert.match(running(waiting)?.message ?? '', /ImageNetDataset sample/);
    }
    await createJob('preempted', {
      ...PACED,
      solver: { inline: solver(2000, 200) },
      snapshotURI: `${out}/preempted/snap`,
    });

    // Live status while it trains: an iteration short of max_iter, with a loss.
    const live = await eventually(
      'steady to report an iteration while Running',
      async () => {
        const s = await getStatus('steady');
        const live = s.phase === 'Running' && (s.iteration ?? 0) > 0 && (s.iteration ?? 0) < 2000;
        return live || s.phase === 'Failed' ? s : undefined;
      },
      240_000,
      500,
    );
    assert.equal(live.phase, 'Running', JSON.stringify(live.conditions));
    assert.equal(live.maxIter, 2000);
    assert.equal(live.progress, `${live.iteration}/2000`);
    assert.equal(typeof live.trainLoss, 'number');

    // Preempt the twin once it has a snapshot: a higher-priority pod needs its node's only GPU.
    const victim = await runningPod('preempted');
    await snapshotPast('preempted', 0);
    const node = (victim.spec as { nodeName?: string }).nodeName!;
    await client.create(PODS, namespace, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'urgent', namespace },
      spec: {
        restartPolicy: 'Never',
        priorityClassName: 'brewery-train-high',
        terminationGracePeriodSeconds: 1,
        nodeSelector: { 'kubernetes.io/hostname': node },
        containers: [
          {
            name: 'main',
            image: 'busybox',
            command: ['sleep', '3'],
            resources: { limits: { 'nvidia.com/gpu': '1' } },
          },
        ],
      },
    });
    const resumed = await eventually(
      'preempted to be resumed by a second pod',
      async () => {
        const s = await getStatus('preempted');
        return s.pod !== victim.metadata?.name && (s.disruptions?.total ?? 0) > 0 ? s : undefined;
      },
      120_000,
      250,
    );
    assert.deepEqual(resumed.disruptions, { total: 1, byReason: { Preemption: 1 } });
    assert.equal(resumed.restarts ?? 0, 0);
    const replacement = (await client.get(PODS, namespace, resumed.pod!)) as KubeObject;
    const args = (replacement.spec as { containers: { args: string[] }[] }).containers[0]!.args;
    assert.ok(
      args.includes('--snapshot=latest'),
      `the replacement resumes from a snapshot: ${args.join(' ')}`,
    );

    const [steady, preempted] = [
      await waitForPhase('steady', ['Succeeded', 'Failed']),
      await waitForPhase('preempted', ['Succeeded', 'Failed']),
    ];
    assert.equal(steady.phase, 'Succeeded', JSON.stringify(steady.conditions));
    assert.equal(preempted.phase, 'Succeeded', JSON.stringify(preempted.conditions));
    assert.equal(steady.iteration, 2000);
    assert.equal(steady.latestSnapshot?.iteration, 2000);
    assert.equal(typeof steady.accuracy, 'number');
    assert.deepEqual(preempted.disruptions, { total: 1, byReason: { Preemption: 1 } });
    // The replacement found the snapshot itself, with the job's credentials.
    assert.match(
      (await resumedFrom(namespace, resumed.pod!)) ?? 'no Resuming line',
      /preempted\/snap_iter_\d+\.solverstate$/,
    );
    // The trainer resumes exactly: the interrupted run ends with the uninterrupted run's weights.
    assert.equal(
      await sha(preempted.latestSnapshot!.caffemodel),
      await sha(steady.latestSnapshot!.caffemodel),
      'the final .caffemodel of the preempted job equals the uninterrupted one',
    );

    const table = await cluster.kubectl(['get', 'caffetrainingjobs', '-n', namespace]);
    assert.match(table.stdout, /PHASE/);
    assert.match(table.stdout, /preempted\s+Succeeded\s+2000\/2000/);
  });

  test('a bad prototxt fails at once with the parse error, and no pod is made', async () => {
    await createJob('typo', {
      net: { inline: `${TINY_NET}layer { name: "x" typo_field: 3 }\n` },
      solver: { inline: solver(10, 10) },
      snapshotURI: `${out}/typo/snap`,
    });
    const status = await waitForPhase('typo', ['Failed'], 60);
    const failed = status.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'BadPrototxt');
    assert.match(failed?.message ?? '', /spec\.net\.inline:\d+:\d+: unknown field "typo_field"/);
    assert.equal(status.pod, undefined);
    assert.equal(status.restarts ?? 0, 0);
  });

  test('a trainer that keeps failing is restarted with backoff up to maxRestarts, then Failed', async () => {
    // An image the local kubelet cannot run: the container fails to start, as a broken image would.
    await createJob('crashing', {
      image: 'example.com/not-a-trainer:1',
      solver: { inline: solver(10, 10) },
      snapshotURI: `${out}/crashing/snap`,
    });
    const status = await waitForPhase('crashing', ['Failed'], 120);
    assert.equal(status.restarts, 2);
    const failed = status.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'RestartsExhausted');
    assert.match(failed?.message ?? '', /exit code 128/);
    const events = await cluster.kubectl([
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector',
      'involvedObject.name=crashing',
      '-o',
      'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
    ]);
    assert.equal(events.stdout.split('\n').filter((r) => r === 'Failed').length, 2, events.stdout);
  });

  test('suspend stops the trainer after a snapshot; an operator restart changes nothing; resume continues', async () => {
    await createJob('pausing', {
      ...PACED,
      solver: { inline: solver(1500, 100) },
      snapshotURI: `${out}/pausing/snap`,
    });
    const first = await runningPod('pausing');

    // The operator goes away and comes back: once the new one has reconciled every job of the
    // cluster (its informer's first list queues them all), the running pod is the same one.
    await stopOperator();
    const metrics = new OperatorMetrics();
    stopOperator = await runOperatorInProcess(client, 'training-2', metrics);
    const jobs = (await client.list(TRAINING_JOBS)).items.length;
    await eventually(
      `the restarted operator to reconcile the ${jobs} jobs`,
      async () => ((await reconcilesOf(metrics, 'caffetrainingjob')) >= jobs ? true : undefined),
      60_000,
    );
    assert.equal((await getStatus('pausing')).pod, first.metadata?.name);
    assert.equal(await podOf('pausing').then((p) => p?.metadata?.uid), first.metadata?.uid);

    // Suspend once training is under way: the trainer snapshots where it is before it exits.
    const periodic = await snapshotPast('pausing', 0);
    await client.mergePatch(TRAINING_JOBS, namespace, 'pausing', { spec: { suspend: true } });
    const suspended = await eventually(
      'pausing to be Suspended with no pod',
      async () => {
        const s = await getStatus('pausing');
        return s.phase === 'Suspended' && s.pod === undefined ? s : undefined;
      },
      120_000,
      250,
    );
    assert.deepEqual(suspended.disruptions, { total: 1, byReason: { Suspend: 1 } });
    const stoppedAt = await snapshotPast('pausing', periodic.iteration - 1);
    const { stdout: log } = await cluster
      .kubectl(['logs', '-n', namespace, first.metadata?.name ?? ''])
      .catch(() => ({
        stdout: '',
      }));
    if (log) assert.match(log, /Snapshotting solver state/, 'the stopped trainer logged its snapshot');

    await client.mergePatch(TRAINING_JOBS, namespace, 'pausing', { spec: { suspend: false } });
    const second = await runningPod('pausing');
    const args = (second.spec as { containers: { args: string[] }[] }).containers[0]!.args;
    assert.ok(args.includes('--snapshot=latest'), args.join(' '));
    const done = await waitForPhase('pausing', ['Succeeded', 'Failed']);
    assert.equal(await resumedFrom(namespace, second.metadata?.name ?? ''), stoppedAt.solverstate);
    assert.equal(done.phase, 'Succeeded', JSON.stringify(done.conditions));
    assert.equal(done.restarts ?? 0, 0);
  });

  test('a live job’s snapshot prefix is refused to a job in another namespace until it finishes; then that job resumes from it', async () => {
    const prefix = `${out}/shared/snap`;
    await createJob('holder', { ...PACED, solver: { inline: solver(600, 200) }, snapshotURI: prefix });
    // Started first, so the holder comes first whatever the two creation times and names.
    await runningPod('holder');
    const [other, cleanUpOther] = await makeNamespace(cluster, 'claims');
    try {
      await createStoreSecret(cluster, other, store);
      await client.create(DATASETS, other, {
        apiVersion: 'caffe.brewery.dev/v1alpha1',
        kind: 'ImageNetDataset',
        metadata: { name: 'sample', namespace: other },
        spec: {
          source: { uri: `s3://training-raw/${namespace}` },
          valLabels,
          output: `s3://training-out/${other}/sample`,
          size: 32,
          shards: 1,
          credentials: { secretName: 'object-store' },
        },
      });
      const jobSpec = {
        net: { inline: TINY_NET },
        dataset: { name: 'sample' },
        credentials: { secretName: 'object-store' },
        resources: { gpus: 1, cpu: '1', memory: '1Gi' },
        solver: { inline: solver(800, 200) },
        snapshotURI: prefix,
      };
      await client.create(TRAINING_JOBS, other, {
        apiVersion: 'caffe.brewery.dev/v1alpha1',
        kind: 'CaffeTrainingJob',
        metadata: { name: 'latecomer', namespace: other },
        spec: jobSpec,
      });
      const statusOf = async () =>
        ((await client.get(TRAINING_JOBS, other, 'latecomer'))?.status ?? {}) as JobStatus;
      const refused = await eventually(
        'latecomer to be refused the prefix',
        async () => {
          const s = await statusOf();
          return running(s)?.reason === 'SnapshotPrefixClaimed' ? s : undefined;
        },
        60_000,
        250,
      );
      assert.equal(refused.phase, 'Pending');
      assert.equal(refused.pod, undefined);
      assert.ok(
        running(refused)?.message.includes(`live job ${namespace}/holder`),
        running(refused)?.message,
      );
      // Refused while the holder is still training, and no pod of the latecomer exists.
      assert.equal((await getStatus('holder')).phase, 'Running');
      const pods = await cluster.kubectl([
        'get',
        'pods',
        '-n',
        other,
        '-l',
        'caffe.brewery.dev/job=latecomer',
        '-o',
        'name',
      ]);
      assert.equal(pods.stdout.trim(), '');
      const events = await cluster.kubectl([
        'get',
        'events',
        '-n',
        other,
        '--field-selector',
        'involvedObject.name=latecomer',
        '-o',
        'jsonpath={range .items[*]}{.type}/{.reason}{"\\n"}{end}',
      ]);
      assert.ok(events.stdout.split('\n').includes('Warning/SnapshotPrefixClaimed'), events.stdout);

      // The holder finishes: its claim ends, and the latecomer resumes from its last snapshot.
      const holder = await waitForPhase('holder', ['Succeeded', 'Failed']);
      assert.equal(holder.phase, 'Succeeded', JSON.stringify(holder.conditions));
      assert.equal(holder.latestSnapshot?.iteration, 600);
      const done = await eventually(
        'latecomer to finish',
        async () => {
          const s = await statusOf();
          return s.phase === 'Succeeded' || s.phase === 'Failed' ? s : undefined;
        },
        300_000,
        500,
      );
      assert.equal(done.phase, 'Succeeded', JSON.stringify(done.conditions));
      assert.equal(done.iteration, 800);
      const first = (await client.get(PODS, other, done.pod!)) as KubeObject;
      const args = (first.spec as { containers: { args: string[] }[] }).containers[0]!.args;
      assert.ok(args.includes('--snapshot=latest'), args.join(' '));
      assert.equal(await resumedFrom(other, done.pod!), `${prefix}_iter_600.solverstate`);
    } finally {
      await cleanUpOther();
    }
  });

  test("a job in another namespace aimed at a finished job's prefix, with an identity that cannot read that bucket, shows none of its progress and fails with access denied", async (t) => {
    // The local cluster's object server has a tenant identity that owns one bucket and can reach no other.
    const described = JSON.parse(readFileSync(process.env.BREWERY_CLUSTER_ENV ?? '', 'utf8')) as {
      objectStore?: { identities?: { tenant?: { accessKeyId: string; secretAccessKey: string } } };
    };
    const tenant = described.objectStore?.identities?.tenant;
    if (!tenant) return t.skip('the object server has no tenant identity (hack/cluster env.json)');
    // The holder of the shared-prefix test above finished there with snapshots up to iteration 600.
    const prefix = `${out}/shared/snap`;
    assert.equal((await getStatus('holder')).phase, 'Succeeded');
    const [other, cleanUpOther] = await makeNamespace(cluster, 'tenant');
    try {
      await cluster.kubectl([
        'create',
        'secret',
        'generic',
        'tenant-keys',
        '-n',
        other,
        `--from-literal=AWS_ACCESS_KEY_ID=${tenant.accessKeyId}`,
        `--from-literal=AWS_SECRET_ACCESS_KEY=${tenant.secretAccessKey}`,
        `--from-literal=AWS_ENDPOINT_URL=${store.endpoint}`,
        `--from-literal=AWS_REGION=${store.region}`,
      ]);
      await client.create(TRAINING_JOBS, other, {
        apiVersion: 'caffe.brewery.dev/v1alpha1',
        kind: 'CaffeTrainingJob',
        metadata: { name: 'intruder', namespace: other },
        spec: {
          net: { inline: TINY_NET },
          // Explicit data: no dataset of its own to wait for; the snapshot lookup comes first anyway.
          data: { trainSource: `${out}/sample/train` },
          credentials: { secretName: 'tenant-keys' },
          resources: { gpus: 1, cpu: '1', memory: '1Gi' },
          solver: { inline: solver(800, 200) },
          snapshotURI: prefix,
        },
      });
      const done = await eventually(
        'intruder to finish',
        async () => {
          const s = ((await client.get(TRAINING_JOBS, other, 'intruder'))?.status ?? {}) as JobStatus;
          return s.phase === 'Succeeded' || s.phase === 'Failed' ? s : undefined;
        },
        180_000,
        500,
      );
      assert.equal(done.phase, 'Failed', JSON.stringify(done.conditions));
      const failed = done.conditions?.find((c) => c.type === 'Failed');
      assert.match(failed?.message ?? '', /refused the credentials/, failed?.message);
      assert.match(failed?.message ?? '', /s3:\/\/training-out/);
      assert.equal(done.restarts ?? 0, 0, 'refused credentials are bad input: no retry');
      // None of the holder's progress: no iteration, loss or snapshot of its prefix.
      assert.equal(done.iteration, undefined);
      assert.equal(done.trainLoss, undefined);
      assert.equal(done.latestSnapshot, undefined);
    } finally {
      await cleanUpOther();
    }
  });

  test('a NoExecute taint on the node evicts the trainer; it resumes on the other node', async () => {
    await createJob('moving', {
      ...PACED,
      solver: { inline: solver(1500, 100) },
      snapshotURI: `${out}/moving/snap`,
    });
    const first = await runningPod('moving');
    await snapshotPast('moving', 0);
    const node = (first.spec as { nodeName?: string }).nodeName!;
    await cluster.kubectl(['taint', 'node', node, 'brewery.dev/test=gone:NoExecute']);
    try {
      const moved = await eventually(
        'moving to run on another node',
        async () => {
          const pod = await podOf('moving');
          const spec = pod?.spec as { nodeName?: string } | undefined;
          const phase = (pod?.status as { phase?: string } | undefined)?.phase;
          return pod?.metadata?.name !== first.metadata?.name && phase === 'Running' ? spec : undefined;
        },
        120_000,
        250,
      );
      assert.notEqual(moved.nodeName, node);
    } finally {
      await cluster.kubectl(['taint', 'node', node, 'brewery.dev/test=gone:NoExecute-']);
    }
    const status = await getStatus('moving');
    const seen = JSON.stringify({ ...status, conditions: status.conditions?.map((c) => c.message) });
    assert.deepEqual(status.disruptions, { total: 1, byReason: { NodeLost: 1 } }, seen);
    assert.equal(status.restarts ?? 0, 0, seen);

    // Deleting the job removes its pods, Service and ConfigMap.
    await client.delete(TRAINING_JOBS, namespace, 'moving');
    await eventually(
      'the job’s children to be gone',
      async () => {
        const { stdout } = await cluster.kubectl([
          'get',
          'pods,services,configmaps',
          '-n',
          namespace,
          '-l',
          'caffe.brewery.dev/job=moving',
          '-o',
          'name',
        ]);
        return stdout.trim() === '' ? true : undefined;
      },
      120_000,
      500,
    );
  });
});

function running(status: JobStatus) {
  return status.conditions?.find((c) => c.type === 'Running');
}
