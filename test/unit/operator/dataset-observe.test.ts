import assert from 'node:assert/strict';
import { test } from 'node:test';

import { countIndexes, viewJob } from '../../../operator/dataset/observe.js';

test('index lists count single indexes and ranges', () => {
  assert.equal(countIndexes(''), 0);
  assert.equal(countIndexes('0'), 1);
  assert.equal(countIndexes('1,3-5,7'), 5);
  assert.equal(countIndexes('0-9'), 10);
});

test('a Job view reads progress from completed and failed indexes and its final condition', () => {
  const view = viewJob({
    metadata: {
      name: 'ds-prep',
      ownerReferences: [
        { apiVersion: 'x', kind: 'ImageNetDataset', name: 'ds', uid: 'u1', controller: true },
      ],
    },
    spec: { suspend: true },
    status: {
      active: 1,
      completedIndexes: '0-1,3',
      failedIndexes: '2',
      conditions: [
        { type: 'FailureTarget', status: 'True', reason: 'PodFailurePolicy', message: 'm' },
        { type: 'Failed', status: 'True', reason: 'PodFailurePolicy', message: 'exit 65' },
      ],
    },
  });
  assert.deepEqual(view, {
    name: 'ds-prep',
    ownerUid: 'u1',
    suspended: true,
    active: 1,
    succeededIndexes: 3,
    failedIndexes: 1,
    outcome: { type: 'Failed', reason: 'PodFailurePolicy', message: 'exit 65' },
  });
});

test('a Job whose Complete condition is False has no outcome yet', () => {
  const view = viewJob({
    metadata: { name: 'j' },
    status: { conditions: [{ type: 'Complete', status: 'False' }] },
  });
  assert.equal(view.outcome, undefined);
});
