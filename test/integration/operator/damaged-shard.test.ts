// A CaffeTrainingJob over a dataset whose shard was damaged after it was made: the operator prepares
// an ImageNetDataset as usual, then one record's JPEG in the train shard is overwritten in the object
// server. The trainer must exit 65 naming the shard and the record, and the job fail at once with
// that in its Failed condition, spending no restart.
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { DATASETS } from '../../../operator/dataset/controller.js';
import { type KubeClient, kubeClient } from '../../../operator/runtime/kube-client.js';
import { TRAINING_JOBS } from '../../../operator/training/controller.js';
import { type LocalCluster, localCluster, skipReason } from '../../support/cluster.js';
import { type ObjectStore, objectStore } from '../../support/object-store.js';
import {
  eventually,
  installCrds,
  makeNamespace,
  runOperatorInProcess,
  stageSampleSource,
  storageWith,
} from './support.js';

interface JobStatus {
  phase?: string;
  restarts?: number;
  pod?: string;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

const NET = `name: "TinyNet"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  transform_param { crop_size: 28 mirror: true scale: 0.00390625 mean_file: "mean.binaryproto" }
  data_param { source: "train_lmdb" batch_size: 4 backend: LMDB } }
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc"
  inner_product_param { num_output: 2 weight_filler { type: "gaussian" std: 0.05 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc" bottom: "label" top: "loss" }
`;

const SOLVER = `base_lr: 0.01
lr_policy: "fixed"
display: 10
max_iter: 200
snapshot: 100
snapshot_prefix: "replaced/by/the/operator"
random_seed: 1701
solver_mode: CPU
`;

describe('a CaffeTrainingJob over a damaged dataset shard', { skip: skipReason }, () => {
  let cluster: LocalCluster;
  let namespace = '';
  let cleanUp = async () => {};
  let client: KubeClient;
  let store: ObjectStore;
  let removeSample = () => {};
  let stopOperator = async () => {};
  let out = '';

  before(async () => {
    cluster = localCluster();
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'damaged');
    client = kubeClient(cluster.kubeConfig);
    store = await objectStore();
    const staged = await stageSampleSource(cluster, store, namespace, 'damaged', {
      classes: 2,
      perClass: 6,
      valPerClass: 1,
      seed: 5,
      width: 40,
      height: 40,
      brokenPerKind: 0,
    });
    removeSample = staged.removeLocal;
    out = `s3://damaged-out/${namespace}`;
    stopOperator = await runOperatorInProcess(client, 'damaged');
    await client.create(DATASETS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'ImageNetDataset',
      metadata: { name: 'sample', namespace },
      spec: {
        source: { uri: `s3://damaged-raw/${namespace}` },
        valLabels: relative(staged.dir, staged.tree.valLabels),
        output: `${out}/sample`,
        size: 32,
        encoding: 'jpeg',
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

  test('fails at once with a BadInput condition naming the shard and the record, and no restart', async () => {
    const ready = await eventually(
      'the dataset to be Ready',
      async () => {
        const phase = ((await client.get(DATASETS, namespace, 'sample'))?.status as { phase?: string })
          ?.phase;
        assert.notEqual(phase, 'Failed');
        return phase === 'Ready' ? phase : undefined;
      },
      300_000,
      1000,
    );
    assert.equal(ready, 'Ready');

    // Damage the third record of the train shard: its Datum still parses, its JPEG no longer decodes.
    const shard = `${out}/sample/train/shard-00000-of-00001`;
    const storageFor = await storageWith(store);
    const { damageRecord } = await import('./damage.js');
    const key = await damageRecord(storageFor, shard, 2);

    await client.create(TRAINING_JOBS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'CaffeTrainingJob',
      metadata: { name: 'damaged', namespace },
      spec: {
        net: { inline: NET },
        solver: { inline: SOLVER },
        dataset: { name: 'sample' },
        snapshotURI: `${out}/damaged/snap`,
        credentials: { secretName: 'object-store' },
        resources: { gpus: 1, cpu: '1', memory: '1Gi' },
        restartPolicy: { maxRestarts: 3, backoffSeconds: 1, maxBackoffSeconds: 2 },
      },
    });
    const status = await eventually(
      'the job to fail',
      async () => {
        const s = ((await client.get(TRAINING_JOBS, namespace, 'damaged'))?.status ?? {}) as JobStatus;
        return s.phase === 'Failed' || s.phase === 'Succeeded' ? s : undefined;
      },
      240_000,
      500,
    );
    assert.equal(status.phase, 'Failed', JSON.stringify(status));
    assert.equal(status.restarts ?? 0, 0, 'no restart is spent on bad input');
    const failed = status.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'BadInput', JSON.stringify(status.conditions));
    assert.match(failed?.message ?? '', /exited with code 65/);
    assert.ok(
      failed?.message.includes(`caffe: ${shard} record '${key}': no decoder can read it`),
      `the condition names the shard and record: ${failed?.message}`,
    );
  });
});
