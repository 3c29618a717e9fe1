import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DATASETS, datasetReconciler } from '../../../operator/dataset/controller.js';
import { JOBS } from '../../../operator/dataset/jobs.js';
import { Controller } from '../../../operator/runtime/controller.js';
import { MemoryEventRecorder } from '../../../operator/runtime/events.js';
import { Informer } from '../../../operator/runtime/informer.js';
import type { KubeObject } from '../../../operator/runtime/kube-client.js';
import { silentLogger } from '../../../operator/runtime/log.js';
import { FakeClock, FakeKubeClient, settle } from './fakes.js';

const dataset: KubeObject = {
  apiVersion: 'caffe.brewery.dev/v1alpha1',
  kind: 'ImageNetDataset',
  metadata: { name: 'ds', namespace: 'ml', uid: 'uid-ds', generation: 1 },
  spec: { source: { uri: 's3://images/raw' }, output: 's3://data/out', shards: 2 },
};

async function setUp() {
  const clock = new FakeClock();
  const client = new FakeKubeClient();
  const events = new MemoryEventRecorder();
  const log = silentLogger();
  client.seed(DATASETS, dataset);
  const datasets = new Informer({ client, clock, log, resource: DATASETS });
  const jobs = new Informer({ client, clock, log, resource: JOBS });
  const controller = new Controller({
    name: 'imagenetdataset',
    primary: datasets,
    owned: [jobs],
    clock,
    log,
    reconcile: datasetReconciler({
      client,
      clock,
      events,
      jobs,
      defaults: { trainerImage: 'trainer:test' },
    }),
  });
  datasets.start();
  jobs.start();
  await Promise.all([datasets.waitForSync(), jobs.waitForSync()]);
  await settle();
  /** Reconciles every queued key until the queue is empty. */
  const drain = async () => {
    for (let i = 0; i < 20 && controller.queue.length > 0; i++) {
      await controller.processNext();
      await settle();
    }
  };
  const stop = async () => {
    await datasets.stop();
    await jobs.stop();
  };
  return { clock, client, events, controller, drain, stop };
}

const statusOf = async (client: FakeKubeClient) =>
  ((await client.get(DATASETS, 'ml', 'ds'))?.status ?? {}) as {
    phase?: string;
    shardProgress?: string;
    images?: unknown;
  };

/** What the Job controller would write when the Job finishes. */
function finishJob(client: FakeKubeClient, name: string, status: object) {
  const key = [...client.objects.keys()].find((k) => k === `jobs/ml/${name}`)!;
  const job = client.objects.get(key)!;
  client.seed(JOBS, { ...job, status });
}

test('a new dataset gets one prep Job, a Preparing status and one PrepStarted event, and a second reconcile changes nothing', async () => {
  const { client, events, drain, stop } = await setUp();
  await drain();
  assert.deepEqual(client.writes(), ['create jobs ml/ds-prep', 'replaceStatus imagenetdatasets ml/ds']);
  assert.equal((await statusOf(client)).phase, 'Preparing');
  assert.deepEqual(
    events.events.map((e) => `${e.key} ${e.type} ${e.reason}`),
    ['ml/ds Normal PrepStarted'],
  );
  const writes = client.writes().length;
  // Level-triggered: a resync of the same state reconciles to no writes.
  client.seed(DATASETS, { ...(await client.get(DATASETS, 'ml', 'ds'))!, metadata: { ...dataset.metadata } });
  await settle();
  await drain();
  assert.equal(client.writes().length, writes, client.writes().join('\n'));
  await stop();
});

test('the whole way to Ready: prep completes, finalize runs and reports its counts, which the status keeps', async () => {
  const { client, events, drain, stop } = await setUp();
  await drain();
  finishJob(client, 'ds-prep', {
    completedIndexes: '0-1',
    conditions: [{ type: 'Complete', status: 'True', reason: 'CompletionsReached' }],
  });
  await settle();
  await drain();
  assert.equal((await statusOf(client)).phase, 'Finalizing');
  assert.ok(client.writes().includes('create jobs ml/ds-finalize'));
  // What operator/progress writes when the finalize pod reports its counts, before the pod exits.
  const reported = (await client.get(DATASETS, 'ml', 'ds'))!;
  const images = { train: 8, val: 2, skipped: 1, total: 10 };
  client.seed(DATASETS, { ...reported, status: { ...(reported.status as object), images } });
  finishJob(client, 'ds-finalize', { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] });
  await settle();
  await drain();
  const status = await statusOf(client);
  assert.equal(status.phase, 'Ready');
  assert.equal(status.shardProgress, '2/2');
  assert.deepEqual(status.images, { train: 8, val: 2, skipped: 1, total: 10 });
  assert.deepEqual(
    events.events.map((e) => e.reason),
    ['PrepStarted', 'FinalizeStarted', 'Ready'],
  );
  await stop();
});

test('a failing status write is retried with backoff and the Job is not created twice', async () => {
  const { client, clock, controller, drain, stop, events } = await setUp();
  const original = client.replaceStatus.bind(client);
  let failures = 1;
  client.replaceStatus = async (...args) => {
    if (failures-- > 0) throw Object.assign(new Error('conflict'), { code: 409 });
    return original(...args);
  };
  await controller.processNext();
  assert.equal((await statusOf(client)).phase, undefined);
  assert.equal(controller.queue.failuresOf('ml/ds'), 1);
  await settle();
  await clock.advance(1000);
  await drain();
  assert.equal((await statusOf(client)).phase, 'Preparing');
  assert.equal(controller.queue.failuresOf('ml/ds'), 0, 'a success forgets the failures');
  assert.equal(client.writes().filter((w) => w === 'create jobs ml/ds-prep').length, 1);
  assert.deepEqual(
    events.events.map((e) => e.reason),
    ['PrepStarted'],
    'the event of the Job it created is recorded once',
  );
  await stop();
});
