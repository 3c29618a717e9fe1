import assert from 'node:assert/strict';
import { test } from 'node:test';

import { countIndexes, summariseManifest, viewJob } from '../../../operator/dataset/observe.js';

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

test('a manifest summary takes the split record counts, the skipped files and the shard URIs', () => {
  const manifest = {
    format: 'brewery.imagenet/v1',
    options: { size: 256 },
    synsets: 3,
    splits: { train: { records: 10, perClass: { n1: 5, n2: 5 } }, val: { records: 2, perClass: { n1: 2 } } },
    shards: [
      { split: 'train', index: 0, file: 'shards/train-00000-of-00002', records: 5 },
      { split: 'train', index: 1, file: 'shards/train-00001-of-00002', records: 5 },
    ],
    skipped: [{ split: 'train', path: 'train/n3/x.JPEG', reason: 'cannot decode' }],
    converted: [],
  };
  assert.deepEqual(
    summariseManifest(JSON.stringify(manifest), 's3://data/out/manifest.json', 's3://data/out'),
    {
      train: 10,
      val: 2,
      skipped: 1,
      shards: ['s3://data/out/shards/train-00000-of-00002', 's3://data/out/shards/train-00001-of-00002'],
    },
  );
});

test('a manifest of another format is described, not thrown', () => {
  const uri = 's3://d/o/manifest.json';
  assert.match(
    String(summariseManifest(JSON.stringify({ counts: { train: 1 } }), uri, 's3://d/o')),
    /not the brewery.imagenet\/v1 manifest finalize writes: s3:\/\/d\/o\/manifest\.json: format: /,
  );
  assert.match(
    String(
      summariseManifest(
        JSON.stringify({
          format: 'brewery.imagenet/v1',
          splits: { train: { records: -1 } },
          shards: [],
          skipped: [],
        }),
        uri,
        's3://d/o',
      ),
    ),
    /manifest\.json: splits\.train\.records: /,
  );
  assert.match(String(summariseManifest('{"format":', uri, 's3://d/o')), /manifest\.json: expected JSON/);
});
