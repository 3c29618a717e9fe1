// The operator's progress endpoint against the real apiserver: reports carry pod-bound service-account
// tokens the apiserver issues (TokenRequest, as the kubelet does for a projected volume) and the
// endpoint checks them with TokenReview. A report from the job's own pod reaches its status; one with
// no token, a token for the apiserver's audience, or another pod's token is refused and counted.
// A dataset's counts are taken only from a pod of its finalize Job.
import assert from 'node:assert/strict';
import type { Server } from 'node:https';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DATASETS } from '../../../operator/dataset/controller.js';
import { JOBS } from '../../../operator/dataset/jobs.js';
import { PROGRESS_AUDIENCE, serveProgress } from '../../../operator/progress/server.js';
import {
  type KubeClient,
  type KubeObject,
  kubeClient,
  type OwnerReference,
} from '../../../operator/runtime/kube-client.js';
import { operatorLogger } from '../../../operator/runtime/log.js';
import { OperatorMetrics } from '../../../operator/runtime/metrics.js';
import { TRAINING_JOBS } from '../../../operator/training/controller.js';
import { PODS } from '../../../operator/workloads.js';
import type { LiveStatus } from '../../../trainer/contract/live-status.js';
import { type LocalCluster, localCluster, skipReason } from '../../support/cluster.js';
import { installCrds, makeNamespace, progressServingCertificate } from './support.js';

const report = (iteration: number): LiveStatus => ({
  version: 1,
  state: 'running',
  iteration,
  maxIter: 1000,
  trainLoss: 1.25,
  lastLoss: 1.5,
  learningRate: 0.01,
  imagesPerSecond: 42,
  tests: [{ netIndex: 0, iteration, outputs: [{ name: 'accuracy', value: 0.5 }] }],
  latestSnapshot: {
    iteration: 100,
    caffemodel: 's3://b/a_iter_100.caffemodel',
    solverstate: 's3://b/a_iter_100.solverstate',
  },
  updatedAt: '2026-12-06T10:00:00Z',
});

describe('the progress endpoint on the local cluster', { skip: skipReason }, () => {
  let cluster: LocalCluster;
  let client: KubeClient;
  let namespace = '';
  let cleanUp = async () => {};
  let server: Server;
  let ca = '';
  const metrics = new OperatorMetrics();
  const pods: Record<string, KubeObject> = {};

  const post = (job: string, body: unknown, token?: string, path = `caffetrainingjobs/${job}/progress`) =>
    new Promise<{ status: number; reason?: string }>((resolve, reject) => {
      const { port } = server.address() as AddressInfo;
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/v1/namespaces/${namespace}/${path}`,
          ca,
          headers: {
            'Content-Type': 'application/json',
            ...(token ? { Authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8');
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              reason: (JSON.parse(text) as { reason?: string }).reason,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  /** A token of the pod, as the kubelet projects it: bound to the pod, for the given audience. */
  const tokenOf = async (pod: string, audience = PROGRESS_AUDIENCE) =>
    (
      await cluster.kubectl([
        'create',
        'token',
        'reporter',
        '-n',
        namespace,
        `--audience=${audience}`,
        '--bound-object-kind=Pod',
        `--bound-object-name=${pod}`,
        `--bound-object-uid=${pods[pod]?.metadata?.uid}`,
      ])
    ).stdout.trim();
  const refusals = async () => {
    const { values } = await metrics.progressReports.get();
    return Object.fromEntries(values.map((v) => [`${v.labels.result}/${v.labels.reason}`, v.value]));
  };
  const statusOf = async (job: string) =>
    (await client.get(TRAINING_JOBS, namespace, job))?.status as Record<string, unknown>;

  before(async () => {
    cluster = localCluster();
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'progress');
    client = kubeClient(cluster.kubeConfig);
    await cluster.kubectl(['create', 'serviceaccount', 'reporter', '-n', namespace]);
    const tls = progressServingCertificate();
    ca = tls.cert;
    server = await serveProgress({
      client,
      metrics,
      log: operatorLogger('silent'),
      tls,
      port: 0,
      host: '127.0.0.1',
    });
    for (const job of ['a', 'b']) {
      const created = await client.create(TRAINING_JOBS, namespace, {
        apiVersion: 'caffe.brewery.dev/v1alpha1',
        kind: 'CaffeTrainingJob',
        metadata: { name: job, namespace },
        spec: {
          net: { builtin: 'lenet' },
          solver: { inline: 'max_iter: 1000' },
          dataset: { name: 'absent' },
          snapshotURI: `s3://progress/${namespace}/${job}/snap`,
        },
      });
      const owner = {
        apiVersion: 'caffe.brewery.dev/v1alpha1',
        kind: 'CaffeTrainingJob',
        name: job,
        uid: created.metadata?.uid ?? '',
        controller: true,
      };
      const pod = `${job}-trainer-1`;
      // Never scheduled (no node has the label): the token only needs the pod to exist.
      pods[pod] = await client.create(PODS, namespace, podManifest(pod, [owner]));
      await client.replaceStatus(TRAINING_JOBS, namespace, job, {
        ...created,
        status: { phase: 'Running', pod },
      });
    }
    pods.stranger = await client.create(PODS, namespace, podManifest('stranger', []));
  });

  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await cleanUp();
  });

  test("a report with the job's own pod token reaches the job's status", async () => {
    const answer = await post('a', report(250), await tokenOf('a-trainer-1'));
    assert.equal(answer.status, 200);
    const status = await statusOf('a');
    assert.equal(status.iteration, 250);
    assert.equal(status.progress, '250/1000');
    assert.equal(status.trainLoss, 1.25);
    assert.equal(status.imagesPerSecond, 42);
    assert.equal(status.accuracy, 0.5);
    assert.deepEqual(status.latestSnapshot, report(250).latestSnapshot);
    assert.equal((await refusals())['accepted/'], 1);
  });

  test('forged reports are refused with 401 or 403 and counted by reason; the status keeps the real one', async () => {
    const cases: [string, string | undefined, number, string][] = [
      ['no token', undefined, 401, 'NoToken'],
      [
        "a token for the apiserver's audience",
        await tokenOf('a-trainer-1', 'https://kubernetes.default.svc.cluster.local'),
        401,
        'InvalidToken',
      ],
      ['not a token at all', 'not-a-token', 401, 'InvalidToken'],
      ['the token of a pod of no job', await tokenOf('stranger'), 403, 'WrongJob'],
      ["the token of another job's pod", await tokenOf('b-trainer-1'), 403, 'WrongJob'],
    ];
    for (const [name, token, status, reason] of cases) {
      const answer = await post('a', report(999), token);
      assert.deepEqual(answer, { status, reason }, name);
    }
    assert.equal((await statusOf('a')).iteration, 250, 'no forged report changed the status');
    assert.deepEqual(await refusals(), {
      'accepted/': 1,
      'refused/NoToken': 1,
      'refused/InvalidToken': 2,
      'refused/WrongJob': 2,
    });
  });

  test("another job's pod reports for its own job; a record that is not a live status is a 400", async () => {
    // b's own pod reporting for b is fine; reporting for a is not (above); and a bad record is a 400.
    assert.equal((await post('b', report(10), await tokenOf('b-trainer-1'))).status, 200);
    assert.equal((await statusOf('b')).iteration, 10);
    assert.deepEqual(await post('b', { iteration: 'ten' }, await tokenOf('b-trainer-1')), {
      status: 400,
      reason: 'BadReport',
    });
  });
});

describe("a dataset's counts at the progress endpoint", { skip: skipReason }, () => {
  test('are taken only from a pod of its finalize Job, into status.images and status.outputs.shards', async () => {
    const cluster = localCluster();
    await installCrds(cluster);
    const [namespace, cleanUp] = await makeNamespace(cluster, 'counts');
    const client = kubeClient(cluster.kubeConfig);
    const metrics = new OperatorMetrics();
    const tls = progressServingCertificate();
    const server = await serveProgress({
      client,
      metrics,
      log: operatorLogger('silent'),
      tls,
      port: 0,
      host: '127.0.0.1',
    });
    try {
      await cluster.kubectl(['create', 'serviceaccount', 'reporter', '-n', namespace]);
      const dataset = await client.create(DATASETS, namespace, {
        apiVersion: 'caffe.brewery.dev/v1alpha1',
        kind: 'ImageNetDataset',
        metadata: { name: 'images', namespace },
        spec: { source: { uri: 's3://raw/images' }, output: 's3://out/images', shards: 1 },
      });
      await client.replaceStatus(DATASETS, namespace, 'images', {
        ...dataset,
        status: { phase: 'Finalizing' },
      });
      const controlledBy = (kind: string, object: KubeObject, apiVersion: string): OwnerReference[] => [
        {
          apiVersion,
          kind,
          name: object.metadata?.name ?? '',
          uid: object.metadata?.uid ?? '',
          controller: true,
        },
      ];
      // The finalize Job, suspended so the Job controller makes no pod of its own; its pod is made here
      // without the Job's selector labels, so the Job controller leaves it alone.
      const finalize = await client.create(JOBS, namespace, {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          name: 'images-finalize',
          namespace,
          ownerReferences: controlledBy('ImageNetDataset', dataset, 'caffe.brewery.dev/v1alpha1'),
        },
        spec: {
          suspend: true,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'f', image: 'busybox', command: ['true'] }],
            },
          },
        },
      });
      const other = await client.create(JOBS, namespace, {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'images-prep', namespace },
        spec: {
          suspend: true,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{ name: 'p', image: 'busybox', command: ['true'] }],
            },
          },
        },
      });
      const pods: Record<string, KubeObject> = {
        'finalize-pod': await client.create(
          PODS,
          namespace,
          podManifest('finalize-pod', controlledBy('Job', finalize, 'batch/v1')),
        ),
        'prep-pod': await client.create(
          PODS,
          namespace,
          podManifest('prep-pod', controlledBy('Job', other, 'batch/v1')),
        ),
      };
      const tokenOf = async (pod: string) =>
        (
          await cluster.kubectl([
            'create',
            'token',
            'reporter',
            '-n',
            namespace,
            `--audience=${PROGRESS_AUDIENCE}`,
            '--bound-object-kind=Pod',
            `--bound-object-name=${pod}`,
            `--bound-object-uid=${pods[pod]?.metadata?.uid}`,
          ])
        ).stdout.trim();
      const counts = {
        version: 1,
        train: 18,
        val: 9,
        skipped: 3,
        shards: ['train/shard-00000-of-00001/data.mdb'],
      };
      const postCounts = (body: unknown, token?: string) =>
        new Promise<{ status: number; reason?: string }>((resolve, reject) => {
          const { port } = server.address() as AddressInfo;
          const req = request(
            {
              host: '127.0.0.1',
              port,
              method: 'POST',
              path: `/v1/namespaces/${namespace}/imagenetdatasets/images/counts`,
              ca: tls.cert,
              headers: {
                'Content-Type': 'application/json',
                ...(token ? { Authorization: `Bearer ${token}` } : {}),
              },
            },
            (res) => {
              let text = '';
              res.on('data', (chunk: Buffer) => {
                text += chunk.toString('utf8');
              });
              res.on('end', () =>
                resolve({
                  status: res.statusCode ?? 0,
                  reason: (JSON.parse(text) as { reason?: string }).reason,
                }),
              );
            },
          );
          req.on('error', reject);
          req.end(JSON.stringify(body));
        });

      assert.deepEqual(await postCounts(counts, await tokenOf('prep-pod')), {
        status: 403,
        reason: 'WrongJob',
      });
      assert.deepEqual(await postCounts(counts), { status: 401, reason: 'NoToken' });
      assert.deepEqual(await postCounts({ ...counts, train: -1 }, await tokenOf('finalize-pod')), {
        status: 400,
        reason: 'BadReport',
      });
      const before = (await client.get(DATASETS, namespace, 'images'))?.status as Record<string, unknown>;
      assert.equal(before.images, undefined, 'no refused report wrote counts');

      assert.equal((await postCounts(counts, await tokenOf('finalize-pod'))).status, 200);
      const status = (await client.get(DATASETS, namespace, 'images'))?.status as {
        phase?: string;
        images?: unknown;
        outputs?: { shards?: string[]; manifest?: string };
      };
      assert.equal(status.phase, 'Finalizing');
      assert.deepEqual(status.images, { train: 18, val: 9, skipped: 3, total: 27 });
      assert.deepEqual(status.outputs?.shards, ['s3://out/images/train/shard-00000-of-00001/data.mdb']);
      assert.equal(status.outputs?.manifest, 's3://out/images/manifest.json');
      const { values } = await metrics.progressReports.get();
      assert.deepEqual(
        Object.fromEntries(values.map((v) => [`${v.labels.result}/${v.labels.reason}`, v.value])),
        { 'accepted/': 1, 'refused/WrongJob': 1, 'refused/NoToken': 1, 'refused/BadReport': 1 },
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await cleanUp();
    }
  });
});

function podManifest(name: string, ownerReferences: OwnerReference[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ownerReferences },
    spec: {
      serviceAccountName: 'reporter',
      nodeSelector: { 'brewery.dev/no-such-node': 'true' },
      containers: [{ name: 'trainer', image: 'busybox', command: ['sleep', '60'] }],
    },
  };
}
