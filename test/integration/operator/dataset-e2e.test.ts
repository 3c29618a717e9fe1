// An ImageNetDataset from raw images to Ready on the local cluster: a generated sample tree in the
// object server, the operator's Indexed Job of real `caffe imagenet prep` pods (run as processes by
// the local kubelet), the finalize Job, and the counts read back from manifest.json into the status.
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { KEPT_KINDS, type SampleFile, type SampleTree } from '../../../hack/sample-imagenet.js';
import { DATASETS } from '../../../operator/dataset/controller.js';
import { type KubeClient, kubeClient } from '../../../operator/runtime/kube-client.js';
import { localCluster, skipReason } from '../../support/cluster.js';
import { type ObjectStore, objectStore } from '../../support/object-store.js';
import {
  eventually,
  installCrds,
  makeNamespace,
  runOperatorInProcess,
  stageSampleSource,
} from './support.js';

interface DatasetStatus {
  phase?: string;
  shardProgress?: string;
  images?: { train: number; val: number; skipped: number; total: number };
  outputs?: { manifest: string; mean: string; shards?: string[] };
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

describe('an ImageNetDataset end to end on the local cluster', { skip: skipReason }, () => {
  let namespace = '';
  let cleanUp = async () => {};
  let client: KubeClient;
  let store: ObjectStore;
  let tree: SampleTree;
  let sampleDir = '';
  let removeSample = () => {};
  let stopOperator = async () => {};

  before(async () => {
    const cluster = localCluster();
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'operator-e2e');
    client = kubeClient(cluster.kubeConfig);
    store = await objectStore();
    ({
      tree,
      dir: sampleDir,
      removeLocal: removeSample,
    } = await stageSampleSource(cluster, store, namespace, 'operator-e2e', {
      classes: 3,
      perClass: 4,
      valPerClass: 2,
      seed: 7,
      width: 48,
      height: 40,
      brokenPerKind: 0,
    }));
    stopOperator = await runOperatorInProcess(client, store, 'e2e');
  });

  after(async () => {
    await stopOperator();
    removeSample();
    await cleanUp();
  });

  test('the dataset becomes Ready with the counts of the sample tree and every output listed', async () => {
    await client.create(DATASETS, namespace, {
      apiVersion: 'caffe.brewery.dev/v1alpha1',
      kind: 'ImageNetDataset',
      metadata: { name: 'sample', namespace },
      spec: {
        source: { uri: `s3://operator-e2e-raw/${namespace}` },
        valLabels: relative(sampleDir, tree.valLabels),
        words: relative(sampleDir, tree.words),
        output: `s3://operator-e2e-out/${namespace}`,
        size: 32,
        shards: 2,
        credentials: { secretName: 'object-store' },
        worker: { resources: { cpu: '500m', memory: '512Mi' } },
      },
    });
    const status = await eventually(
      'the dataset to be Ready or Failed',
      async () => {
        const object = await client.get(DATASETS, namespace, 'sample');
        const s = object?.status as DatasetStatus | undefined;
        return s?.phase === 'Ready' || s?.phase === 'Failed' ? s : undefined;
      },
      240_000,
      1_000,
    );
    assert.equal(status.phase, 'Ready', JSON.stringify(status.conditions));
    assert.equal(status.shardProgress, '2/2');
    // Broken files of the kinds prep can convert are kept; the others are skipped.
    const unreadable = (f: SampleFile) => f.broken !== undefined && !KEPT_KINDS.includes(f.broken);
    const kept = (split: string) => tree.files.filter((f) => f.split === split && !unreadable(f)).length;
    const skipped = tree.files.filter(unreadable).length;
    assert.ok(skipped > 0, 'the sample has unreadable files');
    assert.deepEqual(status.images, {
      train: kept('train'),
      val: kept('val'),
      skipped,
      total: kept('train') + kept('val'),
    });
    assert.equal(status.outputs?.mean, `s3://operator-e2e-out/${namespace}/mean.binaryproto`);
    assert.ok((status.outputs?.shards?.length ?? 0) >= 2, JSON.stringify(status.outputs));
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
  });
});
