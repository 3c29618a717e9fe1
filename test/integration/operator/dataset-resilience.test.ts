// How an ImageNetDataset copes with trouble on the local cluster: a source with no images is bad
// input (prep exits 65), so the prep Job's podFailurePolicy fails it at once, without retries, and the
// dataset stays Failed; an operator killed mid-way and restarted adopts the Job it had made; a
// worker preempted by a higher-priority pod in the middle of a shard is replaced without using up the
// shard's retries, and its replacement redoes that one shard only.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Log } from '@kubernetes/client-node';

import { KEPT_KINDS, type SampleFile, type SampleTree } from '../../../hack/sample-imagenet.js';
import { DATASETS } from '../../../operator/dataset/controller.js';
import { BAD_INPUT_EXIT_CODE, JOBS, jobName } from '../../../operator/dataset/jobs.js';
import { type KubeClient, type KubeObject, kubeClient } from '../../../operator/runtime/kube-client.js';
import { PODS } from '../../../operator/workloads.js';
import { MIN_IMAGE_MS } from '../../../trainer/test-pace.js';
import { type LocalCluster, localCluster, skipReason } from '../../support/cluster.js';
import { type ObjectStore, objectStore } from '../../support/object-store.js';
import { eventsAbout, podsCreatedBy, withTimeout } from '../../support/wait.js';
import {
  createStoreSecret,
  eventually,
  installCrds,
  makeNamespace,
  progressServingCertificate,
  runOperatorInProcess,
  stageSampleSource,
  storageWith,
} from './support.js';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

interface DatasetStatus {
  phase?: string;
  conditions?: Condition[];
}

interface JobStatus {
  failed?: number;
  conditions?: Condition[];
}

const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
/** Val images per class in the preemption test: 150 per worker's val shard. */
const VAL_PER_CLASS = 100;
/**
 * In the preemption test each image takes at least this long, so a worker's val shard lasts at least
 * 12 s on any machine: the preemption lands inside it however fast prep is.
 */
const MIN_IMAGE_MS_IN_PREEMPTION = 80;

/** The Secret the workers read the object server's address and keys from. */
describe('an ImageNetDataset whose source has no images', { skip: skipReason }, () => {
  let namespace = '';
  let cleanUp = async () => {};
  let client: KubeClient;
  let store: ObjectStore;
  let stopOperator = async () => {};
  let cluster: LocalCluster;

  before(async () => {
    cluster = localCluster();
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'dataset-empty');
    client = kubeClient(cluster.kubeConfig);
    store = await objectStore();
    const storageFor = await storageWith(store);
    await store.bucket('resil-empty-raw');
    await store.bucket('resil-empty-out');
    // The source holds a file, but no train/<wnid>/ folder of images.
    const readme = `s3://resil-empty-raw/${namespace}/README.txt`;
    await storageFor(readme).write(readme, Buffer.from('no images here\n'));
    await createStoreSecret(cluster, namespace, store);
    stopOperator = await runOperatorInProcess(client, 'resil');
  });

  after(async () => {
    await stopOperator();
    await cleanUp();
  });

  test('ends Failed with BadInput, the Job failed by its podFailurePolicy, one pod per index', async () => {
    const shards = 2;
    await client.create(DATASETS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'ImageNetDataset',
      metadata: { name: 'empty', namespace },
      spec: {
        source: { uri: `s3://resil-empty-raw/${namespace}` },
        output: `s3://resil-empty-out/${namespace}`,
        size: 32,
        shards,
        backoffLimitPerIndex: 3,
        credentials: { secretName: 'object-store' },
        worker: { resources: { cpu: '250m', memory: '256Mi' } },
      },
    });
    const status = await eventually(
      'the dataset to be Ready or Failed',
      async () => {
        const s = (await client.get(DATASETS, namespace, 'empty'))?.status as DatasetStatus | undefined;
        return s?.phase === 'Ready' || s?.phase === 'Failed' ? s : undefined;
      },
      120_000,
      500,
    );
    assert.equal(status.phase, 'Failed', JSON.stringify(status.conditions));
    const failed = status.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.status, 'True', JSON.stringify(status.conditions));
    assert.equal(failed?.reason, 'BadInput');
    assert.match(failed?.message ?? '', /exited with code 65/);

    // The Job failed by its rule for exit code 65: a Failed Job makes no more pods, so no retry can
    // follow. Its condition names the exit code; its Events name every pod it ever made.
    const prepName = jobName('empty', 'prep');
    const job = await client.get(JOBS, namespace, prepName);
    const jobStatus = job?.status as JobStatus | undefined;
    const jobFailed = jobStatus?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
    assert.equal(jobFailed?.reason, 'PodFailurePolicy', JSON.stringify(jobStatus));
    assert.match(jobFailed?.message ?? '', new RegExp(`exit code ${BAD_INPUT_EXIT_CODE}\\b`));
    const created = await podsCreatedBy((args) => cluster.kubectl(args), namespace, prepName);
    assert.ok(created.length >= 1 && created.length <= shards, `one pod per index at most: ${created}`);
    assert.equal(new Set(created).size, created.length, `no pod name twice: ${created}`);
  });
});

describe('an ImageNetDataset whose operator is killed mid-way', { skip: skipReason }, () => {
  let namespace = '';
  let cleanUp = async () => {};
  let client: KubeClient;
  let store: ObjectStore;
  let sampleDir = '';
  let removeSample = () => {};
  let tree: SampleTree;
  let operator: ChildProcess | undefined;
  /** The progress endpoint's certificate files and port, the same for both operator processes. */
  let tlsDir = '';
  let progressPort = 0;

  // The operator as its own process (operator/main.js), so SIGKILL stops it with no clean-up at all. It
  // gets no object-store settings or keys: the finalize pod reports the counts to its endpoint.
  function startOperator(): ChildProcess {
    const main = new URL('../../../operator/main.js', import.meta.url);
    const args = [
      main.pathname,
      '--metrics-port=0',
      '--leader-elect=false',
      `--progress-port=${progressPort}`,
      `--progress-url=https://127.0.0.1:${progressPort}`,
      `--tls-cert-file=${join(tlsDir, 'tls.crt')}`,
      `--tls-key-file=${join(tlsDir, 'tls.key')}`,
    ];
    const child = spawn(process.execPath, args, {
      env: {
        ...localCluster().env,
        BREWERY_LISTEN_HOST: '127.0.0.1',
        BREWERY_TRAINER_IMAGE: 'ghcr.io/brewery-dev/trainer-cpu:resil',
      },
      stdio: 'ignore',
    });
    return child;
  }

  async function kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  before(async () => {
    const cluster = localCluster();
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'dataset-restart');
    tlsDir = mkdtempSync(join(tmpdir(), 'dataset-restart-tls-'));
    const tls = progressServingCertificate();
    writeFileSync(join(tlsDir, 'tls.crt'), tls.cert);
    writeFileSync(join(tlsDir, 'tls.key'), tls.key);
    progressPort = await freePort();
    client = kubeClient(cluster.kubeConfig);
    store = await objectStore();
    ({
      tree,
      dir: sampleDir,
      removeLocal: removeSample,
    } = await stageSampleSource(cluster, store, namespace, 'resil-restart', {
      classes: 3,
      perClass: 6,
      valPerClass: 2,
      seed: 11,
      width: 40,
      height: 32,
      brokenPerKind: 0,
    }));
  });

  after(async () => {
    if (operator) await kill(operator);
    removeSample();
    if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
    await cleanUp();
  });

  test('the restarted operator finishes the dataset with the same prep Job', async () => {
    operator = startOperator();
    await client.create(DATASETS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'ImageNetDataset',
      metadata: { name: 'restart', namespace },
      spec: {
        source: { uri: `s3://resil-restart-raw/${namespace}` },
        valLabels: relative(sampleDir, tree.valLabels),
        words: relative(sampleDir, tree.words),
        output: `s3://resil-restart-out/${namespace}`,
        size: 24,
        shards: 2,
        credentials: { secretName: 'object-store' },
        worker: { resources: { cpu: '250m', memory: '512Mi' } },
      },
    });
    const prepName = jobName('restart', 'prep');
    const uidBefore = await eventually(
      'the prep Job',
      async () => (await client.get(JOBS, namespace, prepName))?.metadata?.uid,
      60_000,
    );
    await kill(operator);
    const atKill = (await client.get(DATASETS, namespace, 'restart'))?.status as DatasetStatus | undefined;
    assert.notEqual(atKill?.phase, 'Ready', 'the operator was killed before the dataset was done');

    operator = startOperator();
    const status = await eventually(
      'the dataset to be Ready or Failed',
      async () => {
        const s = (await client.get(DATASETS, namespace, 'restart'))?.status as
          | (DatasetStatus & { images?: Record<string, number> })
          | undefined;
        return s?.phase === 'Ready' || s?.phase === 'Failed' ? s : undefined;
      },
      180_000,
      500,
    );
    assert.equal(status.phase, 'Ready', JSON.stringify(status.conditions));
    // The sample's val split always holds one odd file of each kind; prep skips the unreadable ones.
    const unreadable = (f: SampleFile) => f.broken !== undefined && !KEPT_KINDS.includes(f.broken);
    const kept = (split: string) => tree.files.filter((f) => f.split === split && !unreadable(f)).length;
    assert.deepEqual(status.images, {
      train: kept('train'),
      val: kept('val'),
      skipped: tree.files.filter(unreadable).length,
      total: kept('train') + kept('val'),
    });
    const uidAfter = (await client.get(JOBS, namespace, prepName))?.metadata?.uid;
    assert.equal(uidAfter, uidBefore, 'the prep Job was not recreated');
    // No shard was redone: one prep pod per index, each Succeeded, across the operator's restart.
    const { stdout } = await localCluster().kubectl([
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      `batch.kubernetes.io/job-name=${prepName}`,
      '-o',
      'jsonpath={range .items[*]}{.metadata.annotations.batch\\.kubernetes\\.io/job-completion-index} {.status.phase}{"\\n"}{end}',
    ]);
    assert.deepEqual(stdout.trim().split('\n').sort(), ['0 Succeeded', '1 Succeeded']);
  });
});

describe('an ImageNetDataset whose prep worker is preempted mid-shard', { skip: skipReason }, () => {
  let namespace = '';
  let cleanUp = async () => {};
  let client: KubeClient;
  let store: ObjectStore;
  let sampleDir = '';
  let removeSample = () => {};
  let tree: SampleTree;
  let stopOperator = async () => {};
  const priorityClass = `resil-high-${Math.random().toString(16).slice(2, 8)}`;

  before(async () => {
    const cluster = localCluster();
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'dataset-preempt');
    client = kubeClient(cluster.kubeConfig);
    store = await objectStore();
    ({
      tree,
      dir: sampleDir,
      removeLocal: removeSample,
    } = await stageSampleSource(cluster, store, namespace, 'resil-preempt', {
      // A small train split, done in a moment, and a val split of large images whose shards take a
      // few seconds each at size 256: long enough to preempt a worker inside its val shard.
      classes: 3,
      perClass: 4,
      valPerClass: VAL_PER_CLASS,
      seed: 13,
      width: 320,
      height: 320,
      brokenPerKind: 0,
    }));
    await cluster.kubectl(['create', 'priorityclass', priorityClass, '--value=1000000']);
    stopOperator = await runOperatorInProcess(client, 'resil-preempt');
  });

  after(async () => {
    await stopOperator();
    removeSample();
    await localCluster().kubectl(['delete', 'priorityclass', priorityClass, '--ignore-not-found']);
    await cleanUp();
  });

  test('the worker is replaced without a counted failure, redoes only its unfinished shard, and the dataset becomes Ready', async (t) => {
    const cluster = localCluster();
    const gpuNodes = cluster.nodes.filter((n) => n.gpus > 0).length;
    assert.ok(gpuNodes >= 1, 'the local cluster has a GPU node');
    // One worker per GPU node, each holding that node's only GPU, so a GPU pod can only get one by preemption.
    const shards = gpuNodes;
    const out = `s3://resil-preempt-out/${namespace}`;
    await client.create(DATASETS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'ImageNetDataset',
      metadata: { name: 'preempt', namespace },
      spec: {
        source: { uri: `s3://resil-preempt-raw/${namespace}` },
        valLabels: relative(sampleDir, tree.valLabels),
        words: relative(sampleDir, tree.words),
        output: out,
        size: 256,
        encoding: 'jpeg',
        shards,
        // No retries at all: a preemption counted as a failure would fail the dataset.
        backoffLimitPerIndex: 0,
        credentials: { secretName: 'object-store' },
        worker: {
          resources: { cpu: '250m', memory: '512Mi', gpus: 1 },
          env: [{ name: MIN_IMAGE_MS, value: String(MIN_IMAGE_MS_IN_PREEMPTION) }],
        },
      },
    });
    const prepName = jobName('preempt', 'prep');
    const indexOf = (p: KubeObject) => p.metadata?.annotations?.[INDEX_ANNOTATION];
    const prepPods = async () =>
      (await client.list(PODS, { labelSelector: `job-name=${prepName}` })).items.filter(
        (p) => p.metadata?.namespace === namespace,
      );
    const victim = await eventually(
      'the worker of shard 0 to run',
      async () =>
        (await prepPods()).find(
          (p) => indexOf(p) === '0' && (p.status as { phase?: string } | undefined)?.phase === 'Running',
        ),
      90_000,
      100,
    );
    const victimName = victim.metadata!.name!;
    const victimNode = (victim.spec as { nodeName: string }).nodeName;

    // The sign that the worker is inside its val shard: prep's first progress line for it. By then its
    // train shard is complete (marked) and its val shard is not.
    const inShard = await followUntil(
      cluster,
      namespace,
      victimName,
      (p) => p.split === 'val' && p.done < p.total,
    );
    assert.ok(
      inShard,
      `the worker of shard 0 ended before it was seen inside its val shard; raise VAL_PER_CLASS`,
    );
    const markersAtPreemption = await markerTimes(store, out);
    const listed = [...markersAtPreemption.keys()].join(', ');
    assert.ok(markersAtPreemption.has(markerName('train', 0, shards)), listed);
    assert.ok(
      !markersAtPreemption.has(markerName('val', 0, shards)),
      `the val shard was not finished: ${listed}`,
    );
    const preemptedAt = Date.now();

    // Only the victim's node may take it, so the scheduler must preempt that very worker.
    const urgent = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'urgent', namespace },
      spec: {
        priorityClassName: priorityClass,
        restartPolicy: 'Never',
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchFields: [{ key: 'metadata.name', operator: 'In', values: [victimNode] }] },
              ],
            },
          },
        },
        containers: [
          {
            name: 'urgent',
            image: 'busybox',
            command: ['sleep', '2'],
            resources: { requests: { 'nvidia.com/gpu': 1 }, limits: { 'nvidia.com/gpu': 1 } },
          },
        ],
      },
    };
    await cluster.kubectl(['create', '-f', '-'], JSON.stringify(urgent));

    const status = await eventually(
      'the dataset to be Ready or Failed',
      async () => {
        const s = (await client.get(DATASETS, namespace, 'preempt'))?.status as
          | (DatasetStatus & { images?: Record<string, number> })
          | undefined;
        return s?.phase === 'Ready' || s?.phase === 'Failed' ? s : undefined;
      },
      180_000,
      500,
    );
    t.diagnostic(
      `val progress seen: ${JSON.stringify(inShard)}; preemption asked ${new Date(preemptedAt).toISOString()}`,
    );
    assert.equal(status.phase, 'Ready', JSON.stringify(status.conditions));

    // What happened, from what the apiserver keeps: the scheduler's Preempted Event on the victim, and
    // the Job controller's Events for every pod it made. Its podFailurePolicy ignored the disruption:
    // no failure counted, one new pod for index 0.
    const kubectl = (args: string[]) => cluster.kubectl(args);
    const preemptions = await eventsAbout(kubectl, namespace, victimName, 'Preempted');
    assert.equal(preemptions.length, 1, `the scheduler preempted ${victimName}`);
    const created = await podsCreatedBy(kubectl, namespace, prepName);
    assert.equal(created.length, shards + 1, `the preempted worker was replaced by one new pod: ${created}`);
    assert.ok(created.includes(victimName), `${victimName} among the created pods: ${created}`);
    const remaining = await prepPods();
    assert.deepEqual(
      remaining.map((p) => `${indexOf(p)} ${(p.status as { phase?: string }).phase}`).sort(),
      Array.from({ length: shards }, (_, i) => `${i} Succeeded`),
      'one Succeeded worker per index is left',
    );
    const job = (await client.get(JOBS, namespace, prepName))?.status as
      | (JobStatus & { failedIndexes?: string; succeeded?: number })
      | undefined;
    assert.equal(job?.failed ?? 0, 0, JSON.stringify(job));
    assert.ok(!job?.failedIndexes, JSON.stringify(job));
    assert.equal(job?.succeeded, shards);

    // The replacement built the val shard the victim left unfinished, and only that one.
    const replacement = remaining.find((p) => indexOf(p) === '0' && p.metadata?.name !== victimName);
    assert.ok(replacement, 'a replacement worker for shard 0');
    const { stdout } = await cluster.kubectl(['logs', '-n', namespace, replacement.metadata!.name!]);
    const built = new Set(progressLines(stdout).map((p) => `${p.split}-${p.shard}`));
    assert.deepEqual([...built], ['val-0'], stdout);
    // Shards finished before the preemption were never written again.
    const markersAfter = await markerTimes(store, out);
    t.diagnostic(`shards marked at: ${JSON.stringify(Object.fromEntries(markersAfter))}`);
    for (const [marker, modified] of markersAtPreemption) {
      assert.equal(markersAfter.get(marker), modified, `${marker} was rewritten`);
    }
    const redone = markersAfter.get(markerName('val', 0, shards)) ?? '';
    assert.ok(
      redone > new Date(preemptedAt).toISOString(),
      `val shard 0 marked at '${redone}', before the preemption`,
    );

    const unreadable = (f: SampleFile) => f.broken !== undefined && !KEPT_KINDS.includes(f.broken);
    const kept = (split: string) => tree.files.filter((f) => f.split === split && !unreadable(f)).length;
    assert.deepEqual(status.images, {
      train: kept('train'),
      val: kept('val'),
      skipped: tree.files.filter(unreadable).length,
      total: kept('train') + kept('val'),
    });
  });
});

interface ProgressLine {
  phase: string;
  split: string;
  shard: number;
  done: number;
  total: number;
}

/** prep's JSON progress lines (trainer/data/progress.ts) in a pod's log. */
function progressLines(log: string): ProgressLine[] {
  return log.split('\n').flatMap((line) => {
    if (!line.startsWith('{"progress"')) return [];
    return [(JSON.parse(line) as { progress: ProgressLine }).progress];
  });
}

/** Follows a running pod's log; the first progress line that matches, or undefined when the log ends. */
async function followUntil(
  cluster: LocalCluster,
  namespace: string,
  pod: string,
  matches: (p: ProgressLine) => boolean,
): Promise<ProgressLine | undefined> {
  let buffered = '';
  let found: ProgressLine | undefined;
  let resolve: (line: ProgressLine | undefined) => void = () => {};
  const promise = new Promise<ProgressLine | undefined>((r) => {
    resolve = r;
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      found ??= progressLines(lines.join('\n')).find(matches);
      if (found) resolve(found);
      callback();
    },
  });
  // client-node pipes the log into the sink and ends it when the log ends (its done callback is never
  // called); the kubelet may refuse the first requests while the container is only starting. The stream
  // is left to end with the container, which the preemption stops soon after.
  sink.on('finish', () => resolve(found));
  await eventually(
    `the log of ${pod}`,
    () => new Log(cluster.kubeConfig).log(namespace, pod, 'prep', sink, { follow: true }),
    30_000,
    200,
  );
  return withTimeout(promise, 120, `a progress line in the log of ${pod}`);
}

/** The file name of a shard's completion marker, as prep writes it below `<out>/shards/`. */
function markerName(split: string, index: number, count: number): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `${split}-${pad(index)}-of-${pad(count)}.json`;
}

/** LastModified of every shard completion marker below the output, by file name. */
async function markerTimes(store: ObjectStore, out: string): Promise<Map<string, string>> {
  const { bucket, key } = /^s3:\/\/(?<bucket>[^/]+)\/(?<key>.*)$/.exec(out)!.groups!;
  const s3 = new S3Client({
    endpoint: store.endpoint,
    forcePathStyle: true,
    region: store.region,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  });
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${key}/shards/` }));
  const times = new Map<string, string>();
  for (const object of listed.Contents ?? []) {
    const name = object.Key?.split('/').at(-1) ?? '';
    // labels.json beside the markers is written by every run; only the markers say a shard is done.
    if (/^[a-z]+-\d{5}-of-\d{5}\.json$/.test(name)) times.set(name, object.LastModified?.toISOString() ?? '');
  }
  return times;
}

/** A TCP port free on 127.0.0.1 a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
