import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ImageNetDatasetSpec } from '../../../operator/api/imagenet-dataset.js';
import {
  BAD_INPUT_EXIT_CODE,
  finalizeJob,
  jobName,
  prepArgs,
  prepJob,
  prepThreads,
  SOURCE_MOUNT,
} from '../../../operator/dataset/jobs.js';

const defaults = { trainerImage: 'registry.example/trainer:1' };
const spec = ImageNetDatasetSpec.parse({
  source: { uri: 's3://images/raw/' },
  valLabels: 'val_labels.txt',
  words: 's3://meta/synset_words.txt',
  output: 's3://data/imagenet-256/',
  encoding: 'jpeg',
  quality: 85,
  shuffleSeed: 7,
  shards: 3,
  credentials: { secretName: 'object-store' },
  worker: { resources: { cpu: '2', memory: '4Gi' } },
});
const dataset = { name: 'ilsvrc', namespace: 'ml', uid: 'uid-9', spec };

/** The parts of a Job manifest these tests read. */
interface JobShape {
  metadata: { name: string; namespace: string; ownerReferences: unknown[] };
  spec: {
    completionMode?: string;
    completions: number;
    parallelism: number;
    backoffLimitPerIndex: number;
    suspend: boolean;
    podFailurePolicy: { rules: unknown[] };
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        restartPolicy: string;
        volumes?: unknown[];
        containers: {
          image: string;
          command: string[];
          args: string[];
          envFrom?: unknown[];
          resources: unknown;
          volumeMounts?: unknown[];
        }[];
      };
    };
  };
}
const shape = (job: unknown) => job as JobShape;

test('prep args name every flag of `caffe imagenet prep`, with the shard index from the Job', () => {
  assert.deepEqual(prepArgs(spec), [
    'imagenet',
    'prep',
    '--train=s3://images/raw/train',
    '--val=s3://images/raw/val',
    '--val-labels=s3://images/raw/val_labels.txt',
    '--words=s3://meta/synset_words.txt',
    '--out=s3://data/imagenet-256',
    '--size=256',
    '--resize=squash',
    '--encoded=true',
    '--quality=85',
    '--shuffle-seed=7',
    '--threads=2',
    '--shard-count=3',
    '--shard-index=$(JOB_COMPLETION_INDEX)',
  ]);
});

test("a prep worker's threads follow its CPU; past libuv's 4 its pool grows with them", () => {
  const withCpu = (cpu: string | number | undefined) =>
    ImageNetDatasetSpec.parse({
      source: { uri: 's3://images/raw/' },
      output: 's3://data/out/',
      ...(cpu === undefined ? {} : { worker: { resources: { cpu } } }),
    });
  assert.deepEqual(
    ['500m', '2500m', '1.5', 3, undefined].map((cpu) => prepThreads(withCpu(cpu))),
    [1, 3, 2, 3, undefined],
  );
  assert.ok(!prepArgs(withCpu(undefined)).some((a) => a.startsWith('--threads')));
  const env = (cpu: string) =>
    (
      shape(prepJob({ ...dataset, spec: withCpu(cpu) }, defaults)).spec.template.spec.containers[0] as {
        env?: unknown;
      }
    ).env;
  assert.equal(env('4'), undefined);
  assert.deepEqual(env('16'), [{ name: 'UV_THREADPOOL_SIZE', value: '16' }]);
});

test("the worker's env reaches prep and finalize pods, after the operator's own and winning on a name", () => {
  const withEnv = ImageNetDatasetSpec.parse({
    source: { uri: 's3://images/raw/' },
    output: 's3://data/out/',
    worker: {
      resources: { cpu: 8 },
      env: [
        { name: 'UV_THREADPOOL_SIZE', value: '6' },
        { name: 'BREWERY_TEST_MIN_IMAGE_MS', value: '80' },
      ],
    },
  });
  const envOf = (job: ReturnType<typeof prepJob>) =>
    (shape(job).spec.template.spec.containers[0] as { env?: unknown }).env;
  const expected = [
    { name: 'UV_THREADPOOL_SIZE', value: '6' },
    { name: 'BREWERY_TEST_MIN_IMAGE_MS', value: '80' },
  ];
  assert.deepEqual(envOf(prepJob({ ...dataset, spec: withEnv }, defaults)), expected);
  assert.deepEqual(envOf(finalizeJob({ ...dataset, spec: withEnv }, defaults)), expected);
});

test('parallelism caps the prep workers running at once, never above the shard count', () => {
  const withParallelism = (parallelism: number) =>
    shape(prepJob({ ...dataset, spec: { ...spec, shards: 64, parallelism } }, defaults)).spec;
  assert.deepEqual(
    [8, 64, 100].map((p) => [withParallelism(p).completions, withParallelism(p).parallelism]),
    [
      [64, 8],
      [64, 64],
      [64, 64],
    ],
  );
});

test('the prep Job is Indexed with one completion per shard, and never retries bad input', () => {
  const job = shape(prepJob(dataset, defaults));
  assert.equal(job.metadata.name, 'ilsvrc-prep');
  assert.equal(job.metadata.namespace, 'ml');
  assert.deepEqual(job.metadata.ownerReferences, [
    {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'ImageNetDataset',
      name: 'ilsvrc',
      uid: 'uid-9',
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  assert.equal(job.spec.completionMode, 'Indexed');
  assert.equal(job.spec.completions, 3);
  assert.equal(job.spec.parallelism, 3);
  assert.equal(job.spec.backoffLimitPerIndex, 3);
  assert.equal(job.spec.suspend, false);
  assert.deepEqual(job.spec.podFailurePolicy.rules, [
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    {
      action: 'FailJob',
      onExitCodes: { containerName: 'prep', operator: 'In', values: [BAD_INPUT_EXIT_CODE] },
    },
  ]);
  const pod = job.spec.template.spec;
  assert.equal(pod.restartPolicy, 'Never');
  const container = pod.containers[0]!;
  assert.equal(container.image, 'registry.example/trainer:1');
  assert.deepEqual(container.command, ['caffe']);
  assert.deepEqual(container.envFrom, [{ secretRef: { name: 'object-store' } }]);
  assert.deepEqual(container.resources, {
    requests: { cpu: '2', memory: '4Gi' },
    limits: { cpu: '2', memory: '4Gi' },
  });
  assert.equal(job.spec.template.metadata.labels['caffe.brewery.dev/dataset'], 'ilsvrc');
});

test('a volume source is mounted read-only and the flags point into the mount', () => {
  const volumeSpec = ImageNetDatasetSpec.parse({
    source: { volume: { hostPath: '/srv/imagenet', subPath: 'ILSVRC2012' } },
    output: 's3://data/out',
  });
  const job = shape(prepJob({ ...dataset, spec: volumeSpec }, defaults));
  const pod = job.spec.template.spec;
  assert.deepEqual(pod.volumes, [{ name: 'source', hostPath: { path: '/srv/imagenet', type: 'Directory' } }]);
  assert.deepEqual(pod.containers[0]!.volumeMounts, [
    { name: 'source', mountPath: SOURCE_MOUNT, readOnly: true },
  ]);
  assert.ok(pod.containers[0]!.args.includes(`--train=${SOURCE_MOUNT}/ILSVRC2012/train`));
  assert.ok(pod.containers[0]!.args.includes('--encoded=false'));
});

test('the finalize Job runs `caffe imagenet finalize --out` once', () => {
  const job = shape(finalizeJob(dataset, defaults));
  assert.equal(job.metadata.name, 'ilsvrc-finalize');
  assert.equal(job.spec.completionMode, undefined);
  assert.deepEqual(job.spec.template.spec.containers[0]!.args, [
    'imagenet',
    'finalize',
    '--out=s3://data/imagenet-256',
  ]);
  assert.equal(job.spec.template.spec.volumes, undefined);
});

test('given a progress route, the finalize pod reports its counts with its own token and the CA of an annotation', () => {
  const route = { url: 'https://op.example:8443/', ca: 'PEM' };
  const job = shape(finalizeJob(dataset, { ...defaults, progress: route }));
  const pod = job.spec.template;
  assert.deepEqual(pod.spec.containers[0]!.args, [
    'imagenet',
    'finalize',
    '--out=s3://data/imagenet-256',
    '--progress-url=https://op.example:8443/v1/namespaces/ml/imagenetdatasets/ilsvrc/counts',
    '--progress-token=/var/run/secrets/caffe.brewery.dev/progress/token',
    '--progress-ca=/var/run/secrets/caffe.brewery.dev/progress/ca.crt',
  ]);
  assert.deepEqual(pod.metadata.annotations, { 'caffe.brewery.dev/progress-ca': 'PEM' });
  assert.deepEqual(pod.spec.containers[0]!.volumeMounts, [
    { name: 'progress', mountPath: '/var/run/secrets/caffe.brewery.dev/progress', readOnly: true },
  ]);
  assert.deepEqual(pod.spec.volumes, [
    {
      name: 'progress',
      projected: {
        sources: [
          { serviceAccountToken: { audience: 'brewery-operator', expirationSeconds: 3600, path: 'token' } },
          {
            downwardAPI: {
              items: [
                {
                  path: 'ca.crt',
                  fieldRef: { fieldPath: "metadata.annotations['caffe.brewery.dev/progress-ca']" },
                },
              ],
            },
          },
        ],
      },
    },
  ]);
  // The prep workers report nothing: only finalize knows the counts.
  const prep = shape(prepJob(dataset, { ...defaults, progress: route }));
  assert.ok(!prep.spec.template.spec.containers[0]!.args.some((a) => a.startsWith('--progress')));
});

test('a long dataset name gives Job names of at most 63 characters that stay distinct', () => {
  const a = jobName('a'.repeat(80), 'finalize');
  const b = jobName(`${'a'.repeat(79)}b`, 'finalize');
  assert.ok(a.length <= 63, a);
  assert.ok(a.endsWith('-finalize'));
  assert.notEqual(a, b);
});
