// The training job's pure decisions: how a pod's end is read, and what follows from it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { parse as parseYaml } from 'yaml';

import { CaffeTrainingJobSpec } from '../../../operator/api/caffe-training-job.js';
import type { KubeObject } from '../../../operator/runtime/kube-client.js';
import { decideTraining, type TrainingInput, withLiveStatus } from '../../../operator/training/decide.js';
import {
  CUDA_CACHE_MOUNT,
  PROGRESS_MOUNT,
  podName,
  prototxtConfigMap,
  TRACKING_FINALIZER,
  trainerPod,
} from '../../../operator/training/objects.js';
import { viewTrainerPod } from '../../../operator/training/pod-end.js';
import { renderPrototxts } from '../../../operator/training/render.js';
import { parseNetPrototxt, parseSolverPrototxt } from '../../../trainer/proto/index.js';

const now = new Date('2026-11-28T10:00:00Z');
const spec = CaffeTrainingJobSpec.parse({
  net: { inline: 'name: "n"' },
  solver: { inline: 'max_iter: 100' },
  snapshotURI: 's3://bkt/job/snap',
  restartPolicy: { maxRestarts: 2, backoffSeconds: 10, maxBackoffSeconds: 15, maxDisruptions: 2 },
});
const prototxts = { net: 'name: "n"\n', solver: 'max_iter: 100\n', maxIter: 100 };

function pod(status: object, extra: { deleting?: boolean; conditions?: object[]; reason?: string } = {}) {
  return {
    metadata: {
      name: 'job-trainer-1',
      uid: 'u1',
      finalizers: [TRACKING_FINALIZER],
      labels: { 'caffe.brewery.dev/attempt': '1' },
      ...(extra.deleting ? { deletionTimestamp: now.toISOString() } : {}),
    },
    spec: { nodeName: 'local-0' },
    status: {
      phase: 'running' in status ? 'Running' : 'Failed',
      ...(extra.reason ? { reason: extra.reason } : {}),
      conditions: extra.conditions ?? [],
      containerStatuses: [{ name: 'trainer', state: status }],
    },
  } satisfies KubeObject;
}
const exited = (exitCode: number, message = '') => ({
  terminated: { exitCode, message, finishedAt: '2026-11-28T09:59:55Z' },
});

function input(overrides: Partial<TrainingInput> = {}): TrainingInput {
  return {
    name: 'job',
    generation: 1,
    spec,
    status: { phase: 'Running', pod: 'job-trainer-1' },
    now,
    staleTrackedPods: [],
    data: { ready: true },
    prototxts,
    ...overrides,
  };
}

function withMemoryLimit(object: KubeObject, memory: string): KubeObject {
  const spec = {
    ...(object.spec as object),
    containers: [{ name: 'trainer', resources: { limits: { memory } } }],
  };
  return { ...object, spec };
}

describe('reading how a trainer pod ended', () => {
  const cases: [string, KubeObject, boolean, object][] = [
    ['exit 0', pod(exited(0)), false, { kind: 'Completed' }],
    ['exit 65 is bad input', pod(exited(65, 'net.prototxt:3:1: bad')), false, { kind: 'BadInput' }],
    ['exit 1 is a failure', pod(exited(1, 'boom')), false, { kind: 'Failed', exitCode: 1 }],
    [
      'OOMKilled is a failure that names the memory limit and the field to raise',
      withMemoryLimit(
        pod({ terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: now.toISOString() } }),
        '256Mi',
      ),
      false,
      {
        kind: 'Failed',
        exitCode: 137,
        message:
          'the trainer container was OOMKilled at its memory limit of 256Mi: raise spec.resources.memory, ' +
          'or lower the batch_size of the net',
      },
    ],
    [
      'a SIGKILL that was not the OOM killer is a plain failure',
      pod({ terminated: { exitCode: 137, reason: 'Error', finishedAt: now.toISOString() } }),
      false,
      { kind: 'Failed', exitCode: 137, message: 'Error' },
    ],
    [
      'preemption, though the trainer exited 0 after its snapshot',
      pod(exited(0), {
        deleting: true,
        conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }],
      }),
      false,
      { kind: 'Disrupted', reason: 'Preemption' },
    ],
    [
      'a NoExecute taint',
      pod(exited(0), {
        deleting: true,
        conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager' }],
      }),
      false,
      { kind: 'Disrupted', reason: 'NodeLost' },
    ],
    [
      'kubelet eviction',
      pod(exited(137), { reason: 'Evicted' }),
      false,
      { kind: 'Disrupted', reason: 'Eviction' },
    ],
    [
      'deleted while suspending',
      pod(exited(0), { deleting: true }),
      true,
      { kind: 'Disrupted', reason: 'Suspend' },
    ],
    ['deleted by someone', pod(exited(0), { deleting: true }), false, { kind: 'Disrupted', reason: 'Other' }],
    [
      "Kueue's eviction (TerminationTarget), not the user's suspend",
      pod(exited(0), {
        deleting: true,
        conditions: [
          { type: 'TerminationTarget', status: 'True', reason: 'WorkloadEvicted', message: 'Preempted' },
        ],
      }),
      true,
      { kind: 'Disrupted', reason: 'Kueue', message: 'WorkloadEvicted: Preempted' },
    ],
  ];
  for (const [name, object, suspending, expected] of cases) {
    test(name, () => {
      const view = viewTrainerPod(object, suspending);
      assert.equal(view.state, 'Ended');
      for (const [k, v] of Object.entries(expected))
        assert.equal((view.end as Record<string, unknown>)[k], v);
    });
  }
  test('a running container is not an end, even while the pod is being deleted', () => {
    const view = viewTrainerPod(pod({ running: {} }, { deleting: true }), false);
    assert.equal(view.state, 'Running');
    assert.equal(view.end, undefined);
  });
});

describe('deciding what a training job does next', () => {
  const queuedSpec = { ...spec, queueName: 'gpus' };
  const gatedPod = (): KubeObject => {
    const object = pod({ waiting: {} });
    return {
      ...object,
      spec: { schedulingGates: [{ name: 'kueue.x-k8s.io/admission' }] },
      status: { phase: 'Pending', conditions: [], containerStatuses: [] },
    };
  };

  test("a pod Kueue holds with its admission gate is Queued, with Kueue's message and ClusterQueue", () => {
    const d = decideTraining(
      input({
        spec: queuedSpec,
        status: { phase: 'Pending', pod: 'job-trainer-1' },
        pod: viewTrainerPod(gatedPod(), false),
        kueue: {
          installed: true,
          clusterQueue: 'one-gpu',
          workload: { name: 'pod-job-trainer-1-x', admitted: false, message: "couldn't assign flavors" },
        },
      }),
    );
    assert.equal(d.phase, 'Queued');
    const running = d.status.conditions?.find((c) => c.type === 'Running');
    assert.equal(running?.reason, 'Queued');
    assert.equal(
      running?.message,
      "job-trainer-1 waits in LocalQueue gpus (ClusterQueue one-gpu) for Kueue to admit it: couldn't assign flavors",
    );
    assert.deepEqual(d.actions, []);
  });

  test('a queue name without Kueue installed waits with a Warning, and makes no pod', () => {
    const d = decideTraining(input({ spec: queuedSpec, status: {}, kueue: { installed: false } }));
    assert.equal(d.phase, 'Pending');
    assert.deepEqual(d.actions, []);
    assert.equal(d.status.conditions?.find((c) => c.type === 'Running')?.reason, 'KueueNotInstalled');
    assert.deepEqual(
      d.events.map((e) => [e.type, e.reason]),
      [['Warning', 'KueueNotInstalled']],
    );
  });

  test('a prefix another live job holds makes no pod: Pending, naming that job, with a Warning', () => {
    const holder = { namespace: 'team-b', name: 'first', prefix: 's3://bkt/job' };
    const d = decideTraining(input({ status: {}, prefixClaim: { held: false, holder } }));
    assert.equal(d.phase, 'Pending');
    assert.deepEqual(d.actions, []);
    const running = d.status.conditions?.find((c) => c.type === 'Running');
    assert.equal(running?.reason, 'SnapshotPrefixClaimed');
    assert.match(
      running?.message ?? '',
      /s3:\/\/bkt\/job\/snap overlaps s3:\/\/bkt\/job, .* live job team-b\/first/,
    );
    assert.deepEqual(
      d.events.map((e) => [e.type, e.reason]),
      [['Warning', 'SnapshotPrefixClaimed']],
    );
    assert.equal(d.status.pod, undefined);
  });

  test('a replacement pod waits too while another live job holds the prefix; the end is counted once', () => {
    const holder = { namespace: 'team-b', name: 'first', prefix: 's3://bkt/job/snap' };
    const d = decideTraining(
      input({
        pod: viewTrainerPod(pod(exited(0), { deleting: true }), false),
        prefixClaim: { held: false, holder },
      }),
    );
    assert.deepEqual(
      d.actions.map((a) => a.type),
      [],
    );
    assert.equal(d.status.conditions?.find((c) => c.type === 'Running')?.reason, 'SnapshotPrefixClaimed');
    assert.equal(d.status.disruptions?.total, 1);
    assert.equal(d.status.pod, undefined, 'the ended pod is recorded, so the next reconcile counts nothing');
    assert.deepEqual(d.afterStatus, [{ type: 'release', name: 'job-trainer-1' }]);
  });

  test('the trainer pod of a queued job carries the queue name; of another, no Kueue label', () => {
    const job = { name: 'job', namespace: 'ns', uid: 'u', spec: queuedSpec };
    const labels = (p: KubeObject) => p.metadata?.labels ?? {};
    assert.equal(labels(trainerPod(job, 1, { image: 'img' }))['kueue.x-k8s.io/queue-name'], 'gpus');
    assert.equal(
      labels(trainerPod({ ...job, spec }, 1, { image: 'img' }))['kueue.x-k8s.io/queue-name'],
      undefined,
    );
  });

  test('a first pod is created to resume from the latest snapshot if there is one, with the config and Service', () => {
    const d = decideTraining(input({ status: {} }));
    assert.equal(d.phase, 'Pending');
    assert.deepEqual(
      d.actions.map((a) => a.type),
      ['applyConfigMap', 'ensureService', 'createPod'],
    );
    assert.deepEqual(d.actions[2], { type: 'createPod', attempt: 1 });
    assert.equal(d.status.pod, podName('job', 1));
    assert.match(
      d.events.at(-1)?.note ?? '',
      /under s3:\/\/bkt\/job\/snap if there is one, else starting from the fillers$/,
    );
    assert.equal(d.status.maxIter, 100);
  });

  test('data that is not ready makes the job wait, saying why', () => {
    const d = decideTraining(
      input({
        status: {},
        data: { ready: false, reason: 'DatasetNotReady', message: 'waiting for ImageNetDataset x' },
      }),
    );
    assert.equal(d.phase, 'WaitingForData');
    assert.deepEqual(d.actions, []);
    assert.equal(
      d.status.conditions?.find((c) => c.type === 'Running')?.message,
      'waiting for ImageNetDataset x',
    );
    assert.ok(d.requeueAfterMs);
  });

  test('a bad prototxt fails the job at once', () => {
    const d = decideTraining(
      input({ status: {}, prototxts: { error: 'spec.net.inline:1:3: unknown field', badInput: true } }),
    );
    assert.equal(d.phase, 'Failed');
    const failed = d.status.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'BadPrototxt');
    assert.equal(failed?.message, 'spec.net.inline:1:3: unknown field');
    assert.deepEqual(d.actions, []);
  });

  test('a preempted pod is replaced at once from the latest snapshot; restarts stay 0', () => {
    const ended = viewTrainerPod(
      pod(exited(0), {
        deleting: true,
        conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }],
      }),
      false,
    );
    const latestSnapshot = {
      iteration: 40,
      caffemodel: 's3://bkt/job/snap_iter_40.caffemodel',
      solverstate: 's3://bkt/job/snap_iter_40.solverstate',
    };
    const status = { phase: 'Running' as const, pod: 'job-trainer-1', latestSnapshot };
    const d = decideTraining(input({ pod: ended, status }));
    assert.equal(d.phase, 'Restarting');
    assert.deepEqual(d.status.disruptions, { total: 1, byReason: { Preemption: 1 } });
    assert.equal(d.status.restarts, undefined);
    // The trainer finds the newest complete snapshot itself: the one reported is only what the Event says.
    assert.deepEqual(d.actions.at(-1), { type: 'createPod', attempt: 2 });
    assert.deepEqual(d.status.latestSnapshot, latestSnapshot);
    assert.match(
      d.events.at(-1)?.note ?? '',
      /resuming from the latest complete snapshot under s3:\/\/bkt\/job\/snap \(iteration 40 or later\)$/,
    );
    assert.equal(d.status.pod, podName('job', 2));
    // The old pod is released only after the status that records its end.
    assert.deepEqual(d.afterStatus, [{ type: 'release', name: 'job-trainer-1' }]);
    assert.deepEqual(d.counted, { disruption: 'Preemption' });
  });

  test('a failure waits out its backoff, then restarts and counts', () => {
    const ended = viewTrainerPod(pod(exited(1, 'boom')), false);
    const waiting = decideTraining(input({ pod: ended, now: new Date('2026-11-28T10:00:00Z') }));
    assert.equal(waiting.phase, 'Restarting');
    assert.deepEqual(waiting.actions, []);
    assert.equal(waiting.requeueAfterMs, 5_000); // finished 5 s ago, first backoff 10 s
    const later = decideTraining(input({ pod: ended, now: new Date('2026-11-28T10:00:06Z') }));
    assert.equal(later.status.restarts, 1);
    assert.deepEqual(later.actions.at(-1), { type: 'createPod', attempt: 2 });
    // The second failure's backoff doubles, capped by maxBackoffSeconds (15).
    const second = decideTraining(
      input({ pod: ended, status: { phase: 'Running', pod: 'job-trainer-1', restarts: 1 }, now }),
    );
    assert.equal(second.requeueAfterMs, 10_000);
  });

  test('no restarts left: Failed with the reason and the trainer message', () => {
    const ended = viewTrainerPod(pod(exited(1, 'out of memory')), false);
    const d = decideTraining(
      input({ pod: ended, status: { phase: 'Running', pod: 'job-trainer-1', restarts: 2 } }),
    );
    assert.equal(d.phase, 'Failed');
    const failed = d.status.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'RestartsExhausted');
    assert.match(failed?.message ?? '', /exit code 1: out of memory/);
  });

  test('bad input from the trainer is not retried', () => {
    const ended = viewTrainerPod(pod(exited(65, 'train_val.prototxt: no such LMDB')), false);
    const d = decideTraining(input({ pod: ended }));
    assert.equal(d.phase, 'Failed');
    assert.equal(d.status.conditions?.find((c) => c.type === 'Failed')?.reason, 'BadInput');
    assert.deepEqual(d.actions, []);
  });

  test('disruptions have their own cap', () => {
    const ended = viewTrainerPod(pod(exited(0), { deleting: true }), false);
    const d = decideTraining(
      input({ pod: ended, status: { phase: 'Running', pod: 'job-trainer-1', disruptions: { total: 2 } } }),
    );
    assert.equal(d.phase, 'Failed');
    assert.equal(d.status.conditions?.find((c) => c.type === 'Failed')?.reason, 'DisruptionsExhausted');
  });

  test('suspend stops a running pod, then records the stop as a Suspend disruption', () => {
    const suspended = CaffeTrainingJobSpec.parse({ ...spec, suspend: true });
    const runningPod = viewTrainerPod(pod({ running: {} }), true);
    const stopping = decideTraining(input({ spec: suspended, pod: runningPod }));
    assert.equal(stopping.phase, 'Suspended');
    assert.deepEqual(stopping.actions, [{ type: 'stopPod', name: 'job-trainer-1', uid: 'u1' }]);
    const stopped = viewTrainerPod(pod(exited(0), { deleting: true }), true);
    const after = decideTraining(input({ spec: suspended, pod: stopped }));
    assert.equal(after.phase, 'Suspended');
    assert.equal(after.status.pod, undefined);
    assert.deepEqual(after.status.disruptions, { total: 1, byReason: { Suspend: 1 } });
  });

  test("a trainer's report is mirrored into status: progress, accuracy, finite outputs, a newer snapshot", () => {
    const live = {
      version: 1 as const,
      state: 'running' as const,
      iteration: 30,
      maxIter: 100,
      trainLoss: 0.9,
      lastLoss: 0.8,
      learningRate: 0.01,
      imagesPerSecond: 12,
      tests: [
        {
          netIndex: 0,
          iteration: 20,
          outputs: [
            { name: 'accuracy', value: 0.5 },
            { name: 'loss', value: Number.NaN },
          ],
        },
      ],
      latestSnapshot: { iteration: 20, caffemodel: 'm20', solverstate: 's20' },
      updatedAt: now.toISOString(),
    };
    const status = withLiveStatus({ phase: 'Running', pod: 'job-trainer-1' }, live);
    assert.equal(status.phase, 'Running');
    assert.equal(status.progress, '30/100');
    assert.equal(status.accuracy, 0.5);
    assert.deepEqual(status.testOutputs, [{ name: 'accuracy', value: 0.5 }]);
    assert.equal(status.trainLoss, 0.9);
    assert.deepEqual(status.latestSnapshot, live.latestSnapshot);
    const newer = { iteration: 40, caffemodel: 'm40', solverstate: 's40' };
    assert.deepEqual(
      withLiveStatus({ latestSnapshot: newer }, live).latestSnapshot,
      newer,
      'never an older snapshot',
    );
  });

  test("the trainer's float32 numbers are written rounded to what a person reads", () => {
    const status = withLiveStatus(
      { phase: 'Running', pod: 'job-trainer-1' },
      {
        version: 1,
        state: 'running',
        iteration: 30,
        maxIter: 100,
        trainLoss: Math.fround(Math.log(3)),
        lastLoss: 2.3,
        learningRate: Math.fround(0.01),
        imagesPerSecond: 123.45678,
        tests: [{ netIndex: 0, iteration: 20, outputs: [{ name: 'accuracy', value: Math.fround(0.1) }] }],
        updatedAt: now.toISOString(),
      },
    );
    assert.equal(status.accuracy, 0.1);
    assert.deepEqual(status.testOutputs, [{ name: 'accuracy', value: 0.1 }]);
    assert.equal(status.trainLoss, 1.09861);
    assert.equal(status.learningRate, 0.01);
    assert.equal(status.imagesPerSecond, 123.5);
  });

  test('a finished job is deleted when its TTL is up', () => {
    const ttlSpec = CaffeTrainingJobSpec.parse({ ...spec, ttlSecondsAfterFinished: 60 });
    const status = { phase: 'Succeeded' as const, completionTime: '2026-11-28T09:59:30Z' };
    assert.equal(decideTraining(input({ spec: ttlSpec, status })).requeueAfterMs, 30_000);
    const due = decideTraining(input({ spec: ttlSpec, status, now: new Date('2026-11-28T10:00:31Z') }));
    assert.deepEqual(due.actions, [{ type: 'deleteJob' }]);
  });
});

describe('the trainer pod and the effective prototxts', () => {
  test("a GPU pod keeps CUDA's compilation cache on the node folder the operator names, else in an emptyDir", () => {
    const gpuSpec = CaffeTrainingJobSpec.parse({
      ...spec,
      resources: { gpus: 1 },
      env: [{ name: 'A', value: '1' }],
    });
    const job = { name: 'job', namespace: 'ns', uid: 'u', spec: gpuSpec };
    type PodSpec = {
      containers: { env?: { name: string }[]; volumeMounts: { name: string; mountPath: string }[] }[];
      volumes: { name: string; hostPath?: object; emptyDir?: object }[];
    };
    const onNode = trainerPod(job, 1, { image: 'img', cudaCacheHostPath: '/var/lib/cuda' }).spec as PodSpec;
    assert.deepEqual(
      onNode.volumes.find((v) => v.name === 'cuda-cache'),
      {
        name: 'cuda-cache',
        hostPath: { path: '/var/lib/cuda', type: 'Directory' },
      },
    );
    const mount = onNode.containers[0]!.volumeMounts.find((m) => m.name === 'cuda-cache');
    assert.equal(mount?.mountPath, CUDA_CACHE_MOUNT);
    assert.deepEqual(
      onNode.containers[0]!.env?.map((e) => e.name),
      ['CUDA_CACHE_PATH', 'A'],
    );
    const perPod = trainerPod(job, 1, { image: 'img' }).spec as PodSpec;
    assert.deepEqual(
      perPod.volumes.find((v) => v.name === 'cuda-cache'),
      { name: 'cuda-cache', emptyDir: {} },
    );
    const cpu = trainerPod({ ...job, spec: CaffeTrainingJobSpec.parse(spec) }, 1, {
      image: 'img',
      cudaCacheHostPath: '/var/lib/cuda',
    }).spec as PodSpec;
    assert.equal(
      cpu.volumes.find((v) => v.name === 'cuda-cache'),
      undefined,
      'CPU pods have none',
    );
  });

  test('a pod resumes from the latest snapshot the trainer finds, keeps the finalizer and asks for the GPU', () => {
    const gpuSpec = CaffeTrainingJobSpec.parse({ ...spec, resources: { gpus: 1 }, priorityClassName: 'low' });
    const object = trainerPod({ name: 'job', namespace: 'ns', uid: 'u', spec: gpuSpec }, 3, { image: 'img' });
    const podSpec = object.spec as {
      containers: { args: string[]; resources: { limits: object } }[];
      priorityClassName: string;
      restartPolicy: string;
    };
    assert.ok(podSpec.containers[0]!.args.includes('--snapshot=latest'));
    assert.ok(!podSpec.containers[0]!.args.some((a) => a.startsWith('--weights')));
    const tuned = CaffeTrainingJobSpec.parse({ ...spec, weights: 's3://bkt/base.caffemodel' });
    const tunedArgs = (
      trainerPod({ name: 'job', namespace: 'ns', uid: 'u', spec: tuned }, 1, { image: 'img' })
        .spec as typeof podSpec
    ).containers[0]!.args;
    // With no snapshot under the prefix yet, the trainer fine-tunes from spec.weights.
    assert.ok(
      tunedArgs.includes('--snapshot=latest') && tunedArgs.includes('--weights=s3://bkt/base.caffemodel'),
    );
    assert.ok(podSpec.containers[0]!.args.includes('--status-file=s3://bkt/job/snap.status.json'));
    assert.deepEqual(podSpec.containers[0]!.resources.limits, { 'nvidia.com/gpu': 1 });
    assert.equal(podSpec.restartPolicy, 'Never');
    assert.equal(podSpec.priorityClassName, 'low');
    assert.deepEqual(object.metadata?.finalizers, [TRACKING_FINALIZER]);
    assert.equal(object.metadata?.name, 'job-trainer-3');
  });

  test('S3 shards stream through an emptyDir sized by spec.shardCacheSize, named by --cache_dir', () => {
    type CachePod = {
      containers: { args: string[]; volumeMounts: { name: string; mountPath: string }[] }[];
      volumes: { name: string; emptyDir?: { sizeLimit: string | number } }[];
    };
    const sized = CaffeTrainingJobSpec.parse({ ...spec, shardCacheSize: '8Gi' });
    for (const [jobSpec, sizeLimit] of [
      [sized, '8Gi'],
      [spec, '40Gi'],
    ] as const) {
      const podSpec = trainerPod({ name: 'job', namespace: 'ns', uid: 'u', spec: jobSpec }, 0, {
        image: 'img',
      }).spec as CachePod;
      const volume = podSpec.volumes.find((v) => v.name === 'shard-cache');
      assert.deepEqual(volume, { name: 'shard-cache', emptyDir: { sizeLimit } });
      const container = podSpec.containers[0]!;
      const mount = container.volumeMounts.find((m) => m.name === 'shard-cache');
      assert.equal(mount?.mountPath, '/var/cache/brewery/shards');
      assert.ok(container.args.includes('--cache_dir=/var/cache/brewery/shards'), container.args.join(' '));
    }
    assert.throws(
      () => CaffeTrainingJobSpec.parse({ ...spec, shardCacheSize: 'lots' }),
      /shardCacheSize[\s\S]*expected a quantity such as 500m or 8Gi/,
    );
  });

  test("a pod reports progress with its own token for the operator's audience and the operator's CA", () => {
    const job = { name: 'job', namespace: 'ns', uid: 'u', spec };
    const object = trainerPod(job, 1, {
      image: 'img',
      progress: { url: 'https://op.example:8443/', ca: 'PEM' },
    });
    const podSpec = object.spec as {
      containers: { args: string[]; volumeMounts: { name: string; mountPath: string }[] }[];
      volumes: { name: string; projected?: object }[];
    };
    const container = podSpec.containers[0]!;
    assert.deepEqual(container.args.slice(-3), [
      '--progress-url=https://op.example:8443/v1/namespaces/ns/caffetrainingjobs/job/progress',
      `--progress-token=${PROGRESS_MOUNT}/token`,
      `--progress-ca=${PROGRESS_MOUNT}/ca.crt`,
    ]);
    assert.ok(container.volumeMounts.some((m) => m.name === 'progress' && m.mountPath === PROGRESS_MOUNT));
    assert.deepEqual(podSpec.volumes.find((v) => v.name === 'progress')?.projected, {
      sources: [
        { serviceAccountToken: { audience: 'brewery-operator', expirationSeconds: 3600, path: 'token' } },
        { configMap: { name: 'job-prototxt', items: [{ key: 'progress-ca.crt', path: 'ca.crt' }] } },
      ],
    });
    assert.equal(
      (prototxtConfigMap(job, { net: 'n', solver: 's', progressCa: 'PEM' }).data as Record<string, string>)[
        'progress-ca.crt'
      ],
      'PEM',
    );
    const without = trainerPod(job, 1, { image: 'img' }).spec as typeof podSpec;
    assert.ok(!without.containers[0]!.args.some((a) => a.startsWith('--progress')));
    assert.ok(!without.volumes.some((v) => v.name === 'progress'));
  });

  test("the spec's env is the trainer container's env, after the credentials Secret's", () => {
    const envSpec = CaffeTrainingJobSpec.parse({
      ...spec,
      credentials: { secretName: 'keys' },
      env: [{ name: 'BREWERY_BACKEND', value: 'wasm' }],
    });
    const container = (
      trainerPod({ name: 'job', namespace: 'ns', uid: 'u', spec: envSpec }, 0, { image: 'img' }).spec as {
        containers: { env?: unknown; envFrom?: unknown }[];
      }
    ).containers[0]!;
    assert.deepEqual(container.envFrom, [{ secretRef: { name: 'keys' } }]);
    assert.deepEqual(container.env, [{ name: 'BREWERY_BACKEND', value: 'wasm' }]);
    const plain = trainerPod({ name: 'job', namespace: 'ns', uid: 'u', spec }, 0, { image: 'img' });
    assert.equal((plain.spec as { containers: { env?: unknown }[] }).containers[0]!.env, undefined);
  });

  test('Data layers read the dataset, the solver the mounted net, snapshots go to the job URI', () => {
    const net = `name: "n"
layer { name: "d" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  transform_param { mean_file: "m.binaryproto" } data_param { source: "a" batch_size: 2 } }
layer { name: "d" type: "Data" top: "data" top: "label" include { phase: TEST }
  transform_param { mean_value: 1 } data_param { source: "b" batch_size: 2 } }
`;
    const rendered = renderPrototxts(
      spec,
      { text: net, where: 'net' },
      { text: 'train_net: "x"\nmax_iter: 7\nsnapshot_prefix: "old"', where: 'solver' },
      { train: 's3://d/train', val: 's3://d/val', mean: 's3://d/mean.binaryproto' },
    );
    const layers = parseNetPrototxt(rendered.net).layer ?? [];
    assert.equal(layers[0]?.dataParam?.source, 's3://d/train');
    assert.equal(layers[0]?.transformParam?.meanFile, 's3://d/mean.binaryproto');
    assert.equal(layers[1]?.dataParam?.source, 's3://d/val');
    assert.equal(layers[1]?.transformParam?.meanFile, undefined, 'a layer with mean_value keeps it');
    const solverParam = parseSolverPrototxt(rendered.solver);
    assert.equal(solverParam.net, 'train_val.prototxt');
    assert.equal(solverParam.trainNet, undefined);
    assert.equal(solverParam.snapshotPrefix, 's3://bkt/job/snap');
    assert.equal(rendered.maxIter, 7);
  });

  test('a prototxt error names where it came from', () => {
    assert.throws(
      () =>
        renderPrototxts(
          spec,
          { text: 'layer { bogus: 1 }', where: 'ConfigMap nets key net' },
          { text: 'max_iter: 1', where: 's' },
          {},
        ),
      /ConfigMap nets key net:1:\d+: unknown field "bogus"/,
    );
  });
});

describe('the built-in models and the example job', () => {
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const read = (file: string) => readFileSync(join(root, file), 'utf8');

  test('CaffeNet renders with every Data layer on the dataset and its snapshots at the job URI', () => {
    const example = parseYaml(read('crds/examples/caffe-training-job.yaml')) as { spec: unknown };
    const caffenetSpec = CaffeTrainingJobSpec.parse(example.spec);
    const rendered = renderPrototxts(
      caffenetSpec,
      { text: read('trainer/models/bvlc_reference_caffenet/train_val.prototxt'), where: 'train_val' },
      { text: read('trainer/models/bvlc_reference_caffenet/solver.prototxt'), where: 'solver' },
      { train: 's3://data/x/train', val: 's3://data/x/val', mean: 's3://data/x/mean.binaryproto' },
    );
    const data = (parseNetPrototxt(rendered.net).layer ?? []).filter((l) => l.type === 'Data');
    assert.deepEqual(
      data.map((l) => [l.dataParam?.source, l.transformParam?.meanFile]),
      [
        ['s3://data/x/train', 's3://data/x/mean.binaryproto'],
        ['s3://data/x/val', 's3://data/x/mean.binaryproto'],
      ],
    );
    const solverParam = parseSolverPrototxt(rendered.solver);
    assert.equal(solverParam.snapshotPrefix, caffenetSpec.snapshotURI);
    assert.equal(rendered.maxIter, 450000);
  });
});
