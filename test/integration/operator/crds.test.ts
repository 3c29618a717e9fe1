// The generated CRDs against the real kube-apiserver: they are accepted and structural, `kubectl explain`
// teaches them, and the apiserver itself rejects invalid specs with a message a person can act on.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { stringify } from 'yaml';

import { liveFields } from '../../../operator/training/decide.js';
import { localCluster, skipReason } from '../../support/cluster.js';
import { CRD_NAMES, installCrds, makeNamespace, repositoryRoot } from './support.js';

const dataset = (name: string, spec: object) => ({
  apiVersion: 'caffe.brewery.dev/v1alpha1',
  kind: 'ImageNetDataset',
  metadata: { name },
  spec,
});
const trainingJob = (name: string, spec: object) => ({
  apiVersion: 'caffe.brewery.dev/v1alpha1',
  kind: 'CaffeTrainingJob',
  metadata: { name },
  spec,
});
const goodDataset = { source: { uri: 's3://images/raw' }, output: 's3://data/out', shards: 2 };
const goodJob = { solver: { builtin: 'bvlc_reference_caffenet' }, snapshotURI: 's3://snapshots/caffenet' };

/** Each object the apiserver must refuse, and the words its answer must contain. */
const invalid: [string, object, RegExp][] = [
  [
    'a dataset without output',
    dataset('no-output', { source: goodDataset.source }),
    /spec\.output: Required value/,
  ],
  [
    'a dataset with an unknown field',
    dataset('unknown-field', { ...goodDataset, shardz: 3 }),
    /unknown field "spec\.shardz"/,
  ],
  [
    'a dataset with zero shards',
    dataset('zero-shards', { ...goodDataset, shards: 0 }),
    /spec\.shards: Invalid value: 0: spec\.shards in body should be greater than or equal to 1/,
  ],
  [
    'a dataset with negative shards',
    dataset('negative-shards', { ...goodDataset, shards: -4 }),
    /spec\.shards.*greater than or equal to 1/,
  ],
  [
    'a dataset whose output has an http scheme',
    dataset('http-output', { ...goodDataset, output: 'http://data/out' }),
    /spec\.output: Invalid value: .*expected an s3:\/\/bucket\/prefix URI/,
  ],
  [
    'a dataset source with both uri and volume',
    dataset('two-sources', { ...goodDataset, source: { uri: 's3://a/b', volume: { hostPath: '/x' } } }),
    /source needs exactly one of uri and volume/,
  ],
  [
    'a dataset with quality but raw encoding',
    dataset('quality-raw', { ...goodDataset, quality: 90 }),
    /quality applies only when encoding is jpeg/,
  ],
  [
    'a dataset with an unknown resize mode',
    dataset('bad-resize', { ...goodDataset, resize: 'stretch' }),
    /spec\.resize: Unsupported value: "stretch"/,
  ],
  [
    'a training job without a solver',
    trainingJob('no-solver', { snapshotURI: 's3://s/x' }),
    /spec\.solver: Required value/,
  ],
  [
    'a training job with an inline and a built-in solver',
    trainingJob('two-solvers', { ...goodJob, solver: { inline: 'base_lr: 0.01', builtin: 'x' } }),
    /solver needs exactly one of inline, configMapKeyRef and builtin/,
  ],
  [
    'a training job with both a dataset and explicit data',
    trainingJob('dataset-and-data', {
      ...goodJob,
      dataset: { name: 'd' },
      data: { trainSource: 's3://a/train' },
    }),
    /set dataset or data, not both/,
  ],
  [
    'a training job whose max backoff is below its backoff',
    trainingJob('backoff', { ...goodJob, restartPolicy: { backoffSeconds: 60, maxBackoffSeconds: 10 } }),
    /maxBackoffSeconds must be at least backoffSeconds/,
  ],
  [
    'a training job asking for -1 GPUs',
    trainingJob('negative-gpus', { ...goodJob, resources: { gpus: -1 } }),
    /spec\.resources\.gpus.*greater than or equal to 0/,
  ],
  [
    'a training job whose memory is not a quantity',
    trainingJob('bad-memory', { ...goodJob, resources: { memory: 'lots' } }),
    /spec\.resources\.memory/,
  ],
];

describe('CRDs on the real apiserver', { skip: skipReason }, () => {
  let namespace = '';
  let cleanUp = async () => {};

  before(async () => {
    const cluster = localCluster();
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'operator-crds');
  });
  after(async () => cleanUp());

  test('both CRDs are Established and have no NonStructuralSchema condition', async () => {
    for (const name of CRD_NAMES) {
      const { stdout } = await localCluster().kubectl(['get', 'crd', name, '-o', 'json']);
      const conditions = JSON.parse(stdout).status.conditions as { type: string; status: string }[];
      assert.deepEqual(
        conditions.filter((c) => c.type === 'Established').map((c) => c.status),
        ['True'],
      );
      assert.equal(
        conditions.find((c) => c.type === 'NonStructuralSchema'),
        undefined,
        JSON.stringify(conditions),
      );
    }
  });

  test('kubectl explain shows the descriptions written in the zod schemas', async () => {
    // kubectl wraps descriptions at 80 columns.
    const explain = async (field: string) =>
      (await localCluster().kubectl(['explain', field])).stdout.replace(/\s+/g, ' ');
    assert.match(
      await explain('imagenetdataset.spec.shards'),
      /Number of LMDB shards, which is also the number of prep workers/,
    );
    assert.match(
      await explain('caffetrainingjob.spec.restartPolicy.maxRestarts'),
      /disruptions never count against it/,
    );
  });

  test('a valid dataset is accepted with defaults filled in, and listed with its printer columns', async () => {
    const cluster = localCluster();
    await cluster.kubectl(['apply', '-n', namespace, '-f', '-'], stringify(dataset('good', goodDataset)));
    const { stdout } = await cluster.kubectl([
      'get',
      'imagenetdataset',
      'good',
      '-n',
      namespace,
      '-o',
      'json',
    ]);
    const spec = JSON.parse(stdout).spec;
    assert.equal(spec.size, 256);
    assert.equal(spec.resize, 'squash');
    assert.equal(spec.suspend, false);
    const table = await cluster.kubectl(['get', 'ids', '-n', namespace]);
    assert.match(table.stdout, /NAME\s+PHASE\s+SHARDS\s+IMAGES\s+SKIPPED\s+AGE/);
    const jobs = await cluster.kubectl(
      ['apply', '-n', namespace, '-f', '-'],
      stringify(trainingJob('good', goodJob)),
    );
    assert.match(jobs.stdout, /created/);
    const jobTable = await cluster.kubectl(['get', 'ctj', '-n', namespace]);
    assert.match(jobTable.stdout, /NAME\s+PHASE\s+ITERATION\s+ACCURACY\s+RESTARTS\s+DISRUPTIONS\s+AGE/);
  });

  test('kubectl get ctj shows the rounded numbers the operator writes from float32 values', async () => {
    const cluster = localCluster();
    await cluster.kubectl(['apply', '-n', namespace, '-f', '-'], stringify(trainingJob('rounded', goodJob)));
    // The trainer's record carries float32 values widened to doubles, as its JSON writer sees them.
    const fields = liveFields(
      {
        version: 1,
        state: 'running',
        iteration: 40,
        maxIter: 100,
        trainLoss: Math.fround(Math.log(3)),
        lastLoss: Math.fround(2.3),
        learningRate: Math.fround(0.01),
        imagesPerSecond: 57.123456,
        tests: [{ netIndex: 0, iteration: 40, outputs: [{ name: 'accuracy', value: Math.fround(0.1) }] }],
        updatedAt: new Date().toISOString(),
      },
      {},
    );
    await cluster.kubectl([
      'patch',
      'caffetrainingjob',
      'rounded',
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { phase: 'Running', progress: '40/100', ...fields } }),
    ]);
    // -o wide: the Loss column has priority 1. The table is the apiserver's, from the CRD's columns.
    const { stdout } = await cluster.kubectl(['get', 'ctj', 'rounded', '-n', namespace, '-o', 'wide']);
    // Cells are read by the header's column positions: empty cells (no restarts yet) are blank.
    const [header = '', row = ''] = stdout.split('\n');
    const cell = (column: string) => {
      const start = header.search(new RegExp(`\\b${column}\\b`));
      const next = header.slice(start + column.length).search(/\S/);
      return row.slice(start, next < 0 ? undefined : start + column.length + next).trim();
    };
    assert.equal(cell('ACCURACY'), '0.1', stdout);
    assert.equal(cell('LOSS'), '1.09861', stdout);
    assert.equal(cell('ITERATION'), '40/100', stdout);
  });

  test('the examples in crds/examples/ are valid objects', async () => {
    for (const file of ['imagenet-dataset.yaml', 'caffe-training-job.yaml']) {
      const { stdout } = await localCluster().kubectl([
        'create',
        '--dry-run=server',
        '-n',
        namespace,
        '-f',
        join(repositoryRoot(), 'crds/examples', file),
      ]);
      assert.match(stdout, /created \(server dry run\)/);
    }
  });

  for (const [name, object, message] of invalid) {
    test(`${name} is rejected by the apiserver with a readable message`, async () => {
      const cluster = localCluster();
      await assert.rejects(
        cluster.kubectl(['create', '-n', namespace, '-f', '-'], stringify(object)),
        (error: Error & { stderr?: string }) => {
          assert.match(error.stderr ?? error.message, message);
          return true;
        },
      );
    });
  }

  test("a dataset's spec cannot change after creation, except suspend", async () => {
    const cluster = localCluster();
    await cluster.kubectl(['apply', '-n', namespace, '-f', '-'], stringify(dataset('fixed', goodDataset)));
    await assert.rejects(
      cluster.kubectl([
        'patch',
        'imagenetdataset',
        'fixed',
        '-n',
        namespace,
        '--type=merge',
        '-p',
        '{"spec":{"output":"s3://data/other"}}',
      ]),
      (error: Error & { stderr?: string }) => {
        assert.match(error.stderr ?? '', /spec is immutable except suspend/);
        return true;
      },
    );
    await assert.rejects(
      cluster.kubectl([
        'patch',
        'imagenetdataset',
        'fixed',
        '-n',
        namespace,
        '--type=merge',
        '-p',
        '{"spec":{"words":"words.txt"}}',
      ]),
      /spec is immutable except suspend/,
    );
    const { stdout } = await cluster.kubectl([
      'patch',
      'imagenetdataset',
      'fixed',
      '-n',
      namespace,
      '--type=merge',
      '-p',
      '{"spec":{"suspend":true}}',
    ]);
    assert.match(stdout, /patched/);
  });
});
