import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ImageNetDatasetSpec, type ImageNetDatasetStatus } from '../../../operator/api/imagenet-dataset.js';
import { type DatasetInput, decideDataset, OLD_JOB_RECHECK_MS } from '../../../operator/dataset/decide.js';
import { datasetOutputs } from '../../../operator/dataset/jobs.js';
import type { JobView } from '../../../operator/dataset/observe.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const EARLIER = '2026-03-01T11:00:00.000Z';
const spec = ImageNetDatasetSpec.parse({
  source: { uri: 's3://images/raw' },
  output: 's3://data/imagenet-256/',
  shards: 4,
});

function job(name: string, fields: Partial<JobView> = {}): JobView {
  return {
    name,
    ownerUid: 'uid-1',
    suspended: false,
    active: 0,
    succeededIndexes: 0,
    failedIndexes: 0,
    ...fields,
  };
}
const complete = {
  type: 'Complete' as const,
  reason: 'CompletionsReached',
  message: 'Reached expected number of succeeded pods',
};
const running = (n: number) => job('ds-prep', { active: 4 - n, succeededIndexes: n });

function input(fields: Partial<DatasetInput> = {}): DatasetInput {
  return { name: 'ds', uid: 'uid-1', generation: 1, spec, status: {}, now: NOW, ...fields };
}

const condition = (status: ImageNetDatasetStatus | undefined, type: string) =>
  status?.conditions?.find((c) => c.type === type);

interface Row {
  name: string;
  input: DatasetInput;
  phase: string;
  actions: unknown[];
  events?: string[];
  ready?: string;
  progressing?: string;
  failed?: string;
  requeue?: boolean;
}

const rows: Row[] = [
  {
    name: 'a new dataset creates its prep Job and starts Preparing',
    input: input(),
    phase: 'Preparing',
    actions: [{ type: 'createJob', step: 'prep' }],
    events: ['Normal PrepStarted'],
    progressing: 'True PrepRunning',
    failed: 'False NoFailure',
  },
  {
    name: 'a new suspended dataset creates nothing and stays Pending',
    input: input({ spec: { ...spec, suspend: true } }),
    phase: 'Pending',
    actions: [],
    progressing: 'False Suspended',
    ready: 'False Suspended',
  },
  {
    name: 'a prep Job left by an earlier dataset of the same name is waited for, not adopted',
    input: input({ prepJob: job('ds-prep', { ownerUid: 'uid-old' }) }),
    phase: 'Pending',
    actions: [],
    progressing: 'False WaitingForOldJob',
    requeue: true,
  },
  {
    name: 'a running prep Job keeps the dataset Preparing and reports shard progress',
    input: input({ status: { phase: 'Preparing' }, prepJob: running(2) }),
    phase: 'Preparing',
    actions: [],
    progressing: 'True PrepRunning',
  },
  {
    name: 'suspending a preparing dataset suspends its Job',
    input: input({ spec: { ...spec, suspend: true }, status: { phase: 'Preparing' }, prepJob: running(1) }),
    phase: 'Preparing',
    actions: [{ type: 'suspendPrep', suspend: true }],
    events: ['Normal Suspended'],
    progressing: 'False Suspended',
  },
  {
    name: 'resuming a suspended dataset resumes its Job',
    input: input({ status: { phase: 'Preparing' }, prepJob: job('ds-prep', { suspended: true }) }),
    phase: 'Preparing',
    actions: [{ type: 'suspendPrep', suspend: false }],
    events: ['Normal Resumed'],
    progressing: 'True PrepRunning',
  },
  {
    name: 'a prep worker exiting with bad input fails the dataset with reason BadInput',
    input: input({
      status: { phase: 'Preparing' },
      prepJob: job('ds-prep', {
        failedIndexes: 1,
        outcome: {
          type: 'Failed',
          reason: 'PodFailurePolicy',
          message: 'Container prep for pod x failed with exit code 65',
        },
      }),
    }),
    phase: 'Failed',
    actions: [],
    events: ['Warning BadInput'],
    failed: 'True BadInput',
    ready: 'False Failed',
  },
  {
    name: 'a shard that used up its retries fails the dataset with reason ShardFailed',
    input: input({
      status: { phase: 'Preparing' },
      prepJob: job('ds-prep', {
        failedIndexes: 1,
        outcome: {
          type: 'Failed',
          reason: 'MaxFailedIndexesExceeded',
          message: 'Job has exceeded maxFailedIndexes',
        },
      }),
    }),
    phase: 'Failed',
    actions: [],
    events: ['Warning ShardFailed'],
    failed: 'True ShardFailed',
  },
  {
    name: 'a completed prep Job creates the finalize Job and moves to Finalizing',
    input: input({
      status: { phase: 'Preparing' },
      prepJob: job('ds-prep', { succeededIndexes: 4, outcome: complete }),
    }),
    phase: 'Finalizing',
    actions: [{ type: 'createJob', step: 'finalize' }],
    events: ['Normal FinalizeStarted'],
    progressing: 'True Finalizing',
  },
  {
    name: 'a running finalize Job keeps the dataset Finalizing',
    input: input({
      status: { phase: 'Finalizing' },
      prepJob: job('ds-prep', { succeededIndexes: 4, outcome: complete }),
      finalizeJob: job('ds-finalize', { active: 1 }),
    }),
    phase: 'Finalizing',
    actions: [],
    progressing: 'True Finalizing',
  },
  {
    name: 'a failed finalize Job fails the dataset with reason FinalizeFailed',
    input: input({
      status: { phase: 'Finalizing' },
      prepJob: job('ds-prep', { succeededIndexes: 4, outcome: complete }),
      finalizeJob: job('ds-finalize', {
        outcome: {
          type: 'Failed',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        },
      }),
    }),
    phase: 'Failed',
    actions: [],
    events: ['Warning FinalizeFailed'],
    failed: 'True FinalizeFailed',
  },
  {
    name: 'a completed finalize Job whose counts were reported makes the dataset Ready with image counts',
    input: input({
      status: { phase: 'Finalizing', images: { train: 1200, val: 50, skipped: 3, total: 1250 } },
      prepJob: job('ds-prep', { succeededIndexes: 4, outcome: complete }),
      finalizeJob: job('ds-finalize', { succeededIndexes: 1, outcome: complete }),
    }),
    phase: 'Ready',
    actions: [],
    events: ['Normal Ready'],
    ready: 'True Ready',
    progressing: 'False Ready',
    failed: 'False NoFailure',
  },
  {
    name: 'a completed finalize Job that reported no counts is Ready but warns that counts are unknown',
    input: input({
      status: { phase: 'Finalizing' },
      prepJob: job('ds-prep', { succeededIndexes: 4, outcome: complete }),
      finalizeJob: job('ds-finalize', { succeededIndexes: 1, outcome: complete }),
    }),
    phase: 'Ready',
    actions: [],
    events: ['Normal Ready', 'Warning CountsNotReported'],
    ready: 'True Ready',
  },
  {
    name: 'a Ready dataset stays Ready and does nothing even when its Jobs are gone',
    input: input({ status: { phase: 'Ready', outputs: undefined } }),
    phase: 'Ready',
    actions: [],
    events: [],
    ready: 'True Ready',
  },
  {
    name: 'a Failed dataset stays Failed and creates nothing',
    input: input({ status: { phase: 'Failed' } }),
    phase: 'Failed',
    actions: [],
    events: [],
  },
  {
    name: 'a spec the operator cannot read fails the dataset with reason InvalidSpec instead of crashing',
    input: input({ spec: undefined, specError: 'spec is invalid: shards: expected an integer' }),
    phase: 'Failed',
    actions: [],
    events: ['Warning InvalidSpec'],
    failed: 'True InvalidSpec',
  },
];

describe('decideDataset: every phase transition', () => {
  for (const row of rows) {
    test(row.name, () => {
      const decision = decideDataset(row.input);
      assert.equal(decision.phase, row.phase);
      assert.equal(decision.status.phase, row.phase);
      assert.deepEqual(decision.actions, row.actions);
      if (row.events) {
        assert.deepEqual(
          decision.events.map((e) => `${e.type} ${e.reason}`),
          row.events,
        );
      }
      for (const [type, expected] of [
        ['Ready', row.ready],
        ['Progressing', row.progressing],
        ['Failed', row.failed],
      ] as const) {
        if (!expected) continue;
        const c = condition(decision.status, type);
        assert.equal(`${c?.status} ${c?.reason}`, expected, `${type} condition`);
      }
      assert.equal(decision.requeueAfterMs, row.requeue ? OLD_JOB_RECHECK_MS : undefined);
      // Every condition records the generation it was computed from.
      for (const c of decision.status.conditions ?? []) assert.equal(c.observedGeneration, 1);
      assert.equal(decision.status.observedGeneration, 1);
    });
  }
});

describe('decideDataset: status details', () => {
  test('shard progress comes from the Job and reads done/total', () => {
    const decision = decideDataset(input({ status: { phase: 'Preparing' }, prepJob: running(3) }));
    assert.deepEqual(decision.status.shards, { total: 4, succeeded: 3, failed: 0 });
    assert.equal(decision.status.shardProgress, '3/4');
    assert.equal(decision.status.prepJob, 'ds-prep');
    assert.match(condition(decision.status, 'Progressing')?.message ?? '', /3 of 4 shards prepared/);
  });

  test('a Ready dataset lists its outputs under the output prefix and keeps the reported counts and shards', () => {
    const images = { train: 1200, val: 50, skipped: 3, total: 1250 };
    const decision = decideDataset(
      input({
        status: {
          phase: 'Finalizing',
          startTime: EARLIER,
          images,
          outputs: { ...datasetOutputs(spec), shards: ['s3://data/imagenet-256/train-0'] },
        },
        prepJob: job('ds-prep', { succeededIndexes: 4, outcome: complete }),
        finalizeJob: job('ds-finalize', { outcome: complete }),
      }),
    );
    assert.deepEqual(decision.status.images, { train: 1200, val: 50, skipped: 3, total: 1250 });
    assert.equal(decision.status.outputs?.mean, 's3://data/imagenet-256/mean.binaryproto');
    assert.equal(decision.status.outputs?.manifest, 's3://data/imagenet-256/manifest.json');
    assert.deepEqual(decision.status.outputs?.shards, ['s3://data/imagenet-256/train-0']);
    assert.equal(decision.status.startTime, EARLIER);
    assert.equal(decision.status.completionTime, NOW.toISOString());
  });

  test('the start time is set when the prep Job is created and kept afterwards', () => {
    const first = decideDataset(input());
    assert.equal(first.status.startTime, NOW.toISOString());
    const later = decideDataset(
      input({ status: first.status, prepJob: running(1), now: new Date(NOW.getTime() + 60_000) }),
    );
    assert.equal(later.status.startTime, NOW.toISOString());
  });

  test('a condition whose status did not change keeps its lastTransitionTime', () => {
    const first = decideDataset(input({ status: { phase: 'Preparing' }, prepJob: running(1) }));
    const later = decideDataset(
      input({ status: first.status, prepJob: running(2), now: new Date(NOW.getTime() + 60_000) }),
    );
    assert.equal(condition(later.status, 'Progressing')?.lastTransitionTime, NOW.toISOString());
    assert.match(condition(later.status, 'Progressing')?.message ?? '', /2 of 4/);
  });

  test('deciding twice on the same observation gives the same status (reconcile is idempotent)', () => {
    const observed = input({ status: { phase: 'Preparing' }, prepJob: running(2) });
    const once = decideDataset(observed);
    const twice = decideDataset({ ...observed, status: once.status });
    assert.deepEqual(twice.status, once.status);
    assert.deepEqual(twice.actions, []);
  });

  test('a bad-input failure message tells the user retrying cannot help', () => {
    const decision = decideDataset(
      input({
        status: { phase: 'Preparing' },
        prepJob: job('ds-prep', {
          outcome: { type: 'Failed', reason: 'PodFailurePolicy', message: 'exit code 65' },
        }),
      }),
    );
    assert.match(condition(decision.status, 'Failed')?.message ?? '', /retrying cannot help/);
  });
});
