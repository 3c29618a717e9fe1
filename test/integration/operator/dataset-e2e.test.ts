// An ImageNetDataset from raw images to Ready on the local cluster: a generated sample tree in the
// object server, the operator's Indexed Job of real `caffe imagenet prep` pods (run as processes by
// the local kubelet), the finalize Job, and the counts read back from manifest.json into the status.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  generateSampleImagenet,
  KEPT_KINDS,
  type SampleFile,
  type SampleTree,
} from '../../../hack/sample-imagenet.js';
import { DATASETS } from '../../../operator/dataset/controller.js';
import { runControllers } from '../../../operator/manager.js';
import { systemClock } from '../../../operator/runtime/clock.js';
import { kubeEventRecorder } from '../../../operator/runtime/events.js';
import { type KubeClient, kubeClient } from '../../../operator/runtime/kube-client.js';
import { operatorLogger } from '../../../operator/runtime/log.js';
import { OperatorMetrics } from '../../../operator/runtime/metrics.js';
import { localCluster, skipReason } from '../../support/cluster.js';
import { type ObjectStore, objectStore } from '../../support/object-store.js';
import { eventually, installCrds, makeNamespace } from './support.js';

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
  const stop = new AbortController();
  let operator: Promise<void> = Promise.resolve();

  before(async () => {
    const cluster = localCluster();
    await installCrds(cluster);
    [namespace, cleanUp] = await makeNamespace(cluster, 'operator-e2e');
    client = kubeClient(cluster.kubeConfig);
    store = await objectStore();
    // trainer/storage reads the object server's address and keys from the environment.
    Object.assign(process.env, store.env);
    const { storageFor } = await import('../../../trainer/storage/index.js');

    sampleDir = mkdtempSync(join(tmpdir(), 'brewery-operator-e2e-'));
    tree = await generateSampleImagenet({
      out: sampleDir,
      classes: 3,
      perClass: 4,
      valPerClass: 2,
      seed: 7,
      width: 48,
      height: 40,
      brokenPerKind: 0,
    });
    const raw = await store.bucket('operator-e2e-raw');
    await store.bucket('operator-e2e-out');
    const local = storageFor(sampleDir);
    for (const file of await local.list(sampleDir)) {
      await storageFor(raw).putFile(file.uri, `${raw}/${namespace}/${relative(sampleDir, file.uri)}`);
    }
    await cluster.kubectl([
      'create',
      'secret',
      'generic',
      'object-store',
      '-n',
      namespace,
      ...Object.entries(store.env).map(([k, v]) => `--from-literal=${k}=${v}`),
    ]);

    const log = operatorLogger('warn');
    operator = runControllers(
      {
        client,
        clock: systemClock,
        log,
        metrics: new OperatorMetrics(),
        events: kubeEventRecorder(client, systemClock, log, 'e2e'),
        readManifest: async (uri) => JSON.parse((await storageFor(uri).read(uri)).toString('utf8')),
        trainerImage: 'ghcr.io/brewery-dev/trainer-cpu:e2e',
        identity: 'e2e',
      },
      stop.signal,
    );
  });

  after(async () => {
    stop.abort();
    await operator;
    rmSync(sampleDir, { recursive: true, force: true });
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
