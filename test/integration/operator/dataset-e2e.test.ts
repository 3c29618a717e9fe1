// An ImageNetDataset from raw images to Ready on the local cluster: a generated sample tree in the
// object server, the operator's Indexed Job of four real `caffe imagenet prep` pods (run as processes
// by the local kubelet), the finalize Job, and the counts it reports to the operator in the status.
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { KEPT_KINDS, type SampleFile, type SampleTree } from '../../../hack/sample-imagenet.js';
import { DATASETS } from '../../../operator/dataset/controller.js';
import { JOBS, jobName } from '../../../operator/dataset/jobs.js';
import { type KubeClient, kubeClient } from '../../../operator/runtime/kube-client.js';
import { localCluster, skipReason } from '../../support/cluster.js';
import { type ObjectStore, objectStore } from '../../support/object-store.js';
import {
  eventually,
  installCrds,
  makeNamespace,
  runOperatorInProcess,
  stageSampleSource,
  storageWith,
} from './support.js';

const WORKERS = 4;

interface DatasetStatus {
  phase?: string;
  shardProgress?: string;
  images?: { train: number; val: number; skipped: number; total: number };
  outputs?: { manifest: string; mean: string; shards?: string[] };
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

/** The parts of manifest.json (written by `caffe imagenet finalize`) this test checks. */
interface Manifest {
  shards: { split: string; index: number; file: string; records: number }[];
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
      // 12 train images (3 a worker) and 12 val images plus 6 odd files, at most 3 of them unreadable:
      // every one of the 4 workers' 8 shards gets images.
      classes: 3,
      perClass: 4,
      valPerClass: 4,
      seed: 7,
      width: 48,
      height: 40,
      brokenPerKind: 0,
    }));
    stopOperator = await runOperatorInProcess(client, 'e2e');
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
        shards: WORKERS,
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
    assert.equal(status.shardProgress, `${WORKERS}/${WORKERS}`);
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
    const out = `s3://operator-e2e-out/${namespace}`;
    assert.equal(status.outputs?.mean, `${out}/mean.binaryproto`);
    assert.equal(status.outputs?.manifest, `${out}/manifest.json`);
    // One train and one val shard per worker, named shard-<index>-of-<count> with five digits each.
    const expectedShards = ['train', 'val'].flatMap((split) =>
      [0, 1, 2, 3].map((i) => `${out}/${split}/shard-0000${i}-of-00004/data.mdb`),
    );
    assert.deepEqual([...(status.outputs?.shards ?? [])].sort(), expectedShards.sort());
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');

    // Every worker's slice held images, and the shards' records add up to the counts in the status.
    const storageFor = await storageWith(store);
    const manifest = JSON.parse((await storageFor(out).read(`${out}/manifest.json`)).toString()) as Manifest;
    assert.equal(manifest.shards.length, 2 * WORKERS, JSON.stringify(manifest.shards));
    for (const shard of manifest.shards) assert.ok(shard.records > 0, `${shard.file} is empty`);
    const records = (split: string) =>
      manifest.shards.filter((s) => s.split === split).reduce((sum, s) => sum + s.records, 0);
    assert.equal(records('train'), status.images?.train);
    assert.equal(records('val'), status.images?.val);

    // Four workers, one pod per index, and all four succeeded.
    const job = await client.get(JOBS, namespace, jobName('sample', 'prep'));
    const jobSpec = job?.spec as { parallelism?: number; completions?: number } | undefined;
    assert.equal(jobSpec?.parallelism, WORKERS);
    assert.equal(jobSpec?.completions, WORKERS);
    assert.equal((job?.status as { succeeded?: number } | undefined)?.succeeded, WORKERS);
    const { stdout } = await localCluster().kubectl([
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      `job-name=${jobName('sample', 'prep')}`,
      '-o',
      'jsonpath={range .items[*]}{.metadata.annotations.batch\\.kubernetes\\.io/job-completion-index}{"\\n"}{end}',
    ]);
    assert.deepEqual(stdout.trim().split('\n').sort(), ['0', '1', '2', '3']);

    // The counts reached the status from the finalize pod's report: the operator reads no manifest.
    const finalizePods = await localCluster().kubectl([
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      `job-name=${jobName('sample', 'finalize')}`,
      '-o',
      'jsonpath={.items[0].metadata.name}',
    ]);
    const { stdout: finalizeLog } = await localCluster().kubectl([
      'logs',
      '-n',
      namespace,
      finalizePods.stdout.trim(),
    ]);
    assert.ok(
      finalizeLog.includes(
        `reported ${status.images?.train} train, ${status.images?.val} val, ${skipped} skipped to the operator`,
      ),
      finalizeLog,
    );
  });
});
