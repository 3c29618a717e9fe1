// Every JSON record the operator or trainer reads from storage goes through parseRecord with its zod
// schema: a malformed record of each kind fails with a BadInputError naming the file and the field.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { parseDatasetCounts } from '../../../trainer/contract/dataset-counts.js';
import { liveStatusSchema } from '../../../trainer/contract/live-status.js';
import { fieldPath, parseRecord } from '../../../trainer/contract/records.js';
import { progressRecordSchema } from '../../../trainer/contract/snapshots.js';
import { countsOf, type Manifest } from '../../../trainer/data/finalize.js';
import { labelsFileSchema, parseShardMarker } from '../../../trainer/data/layout.js';

/** Asserts a BadInputError whose message is `<file>: <rest>`, the rest matching `field`. */
function namesFileAndField(read: () => unknown, file: string, field: RegExp): void {
  assert.throws(read, (error: Error) => {
    assert.equal(error.name, 'BadInputError');
    assert.ok(error.message.startsWith(`${file}: `), error.message);
    assert.match(error.message.slice(file.length + 2), field);
    return true;
  });
}

const marker = {
  split: 'train',
  index: 0,
  count: 2,
  optionsHash: 'b'.repeat(64),
  file: 'train/shard-00000-of-00002/data.mdb',
  records: 2,
  bytes: 16384,
  sha256: 'c'.repeat(64),
  labels: { '0': 1, '1': 1 },
  list: { file: 'shards/train-00000-of-00002.txt', lines: 2, sha256: 'e'.repeat(64) },
  skipped: [],
  converted: [],
};
const labels = {
  synsets: ['n01', 'n02'],
  splits: ['train', 'val'],
  unlabeled: [{ split: 'val', path: 'val/x.JPEG', reason: 'no label' }],
  options: { size: 256 },
};
const snapshotFile = { file: 's3://b/net_iter_100.caffemodel', sha256: 'a'.repeat(64), bytes: 10 };
const rng = { words: [1, 2, 3, 4], spareGaussian: null };
const progress = {
  version: 1,
  iteration: 100,
  model: snapshotFile,
  solverState: { ...snapshotFile, file: 's3://b/net_iter_100.solverstate' },
  tests: [{ netIndex: 0, iteration: 100, outputs: [] }],
  position: {
    rngs: [rng],
    loaders: {
      train: { epoch: 0, epochSeed: null, part: 0, partSeed: null, record: 3, rng, batches: 1 },
    },
  },
};
const liveStatus = {
  version: 1,
  state: 'running',
  iteration: 30,
  maxIter: 100,
  trainLoss: 0.9,
  lastLoss: 0.8,
  learningRate: 0.01,
  imagesPerSecond: 12,
  tests: [{ netIndex: 0, iteration: 20, outputs: [{ name: 'accuracy', value: 0.5 }] }],
  updatedAt: '2026-12-06T04:00:00.000Z',
};
const manifest = {
  format: 'brewery.imagenet/v1',
  splits: { train: { records: 2 }, val: { records: 1 } },
  shards: [{ file: 'train/shard-00000-of-00001' }],
  skipped: [],
};
const text = (value: unknown) => JSON.stringify(value);

describe('parseRecord', () => {
  test('a record that is not JSON names the file', () => {
    namesFileAndField(
      () => parseRecord('s3://b/x.json', '{"version": 1,', liveStatusSchema),
      's3://b/x.json',
      /^expected JSON, /,
    );
  });

  test('fields are named as a person points at them: dots for keys, brackets for indexes', () => {
    assert.equal(fieldPath(['tests', 0, 'outputs', 1, 'value']), 'tests[0].outputs[1].value');
    assert.equal(fieldPath([]), '(record)');
  });
});

describe('a malformed record of each kind names its file and field', () => {
  test('a prep shard marker', () => {
    const where = 's3://d/out/shards/train-00000-of-00002.json';
    assert.equal(parseShardMarker(text(marker), where).records, 2);
    namesFileAndField(() => parseShardMarker(text({ ...marker, records: -1 }), where), where, /^records: /);
    namesFileAndField(
      () => parseShardMarker(text({ ...marker, list: { ...marker.list, sha256: 'not hex' } }), where),
      where,
      /^list\.sha256: /,
    );
  });

  test("prep's labels file", () => {
    const where = 's3://d/out/shards/labels.json';
    assert.deepEqual(parseRecord(where, text(labels), labelsFileSchema).synsets, ['n01', 'n02']);
    namesFileAndField(
      () => parseRecord(where, text({ ...labels, splits: ['train', 'test'] }), labelsFileSchema),
      where,
      /^splits\[1\]: /,
    );
    namesFileAndField(
      () => parseRecord(where, text({ ...labels, unlabeled: [{ split: 'val', path: 3 }] }), labelsFileSchema),
      where,
      /^unlabeled\[0\]\.path: /,
    );
  });

  test("finalize's counts, as it reports them from its manifest and the operator reads them", () => {
    const counts = countsOf(manifest as unknown as Manifest);
    assert.deepEqual(counts, {
      version: 1,
      train: 2,
      val: 1,
      skipped: 0,
      shards: ['train/shard-00000-of-00001'],
    });
    const where = 'the counts of ns/sample';
    assert.deepEqual(parseDatasetCounts(JSON.parse(text(counts)), where), counts);
    namesFileAndField(() => parseDatasetCounts({ ...counts, skipped: -1 }, where), where, /^skipped: /);
    namesFileAndField(() => parseDatasetCounts({ ...counts, shards: [3] }, where), where, /^shards\[0\]: /);
  });

  test("the trainer's live status record", () => {
    const where = 's3://b/job/status.json';
    assert.equal(parseRecord(where, text(liveStatus), liveStatusSchema).iteration, 30);
    namesFileAndField(
      () => parseRecord(where, text({ ...liveStatus, imagesPerSecond: -1 }), liveStatusSchema),
      where,
      /^imagesPerSecond: /,
    );
    namesFileAndField(
      () =>
        parseRecord(
          where,
          text({ ...liveStatus, tests: [{ netIndex: 0, iteration: 20, outputs: [{ name: 'accuracy' }] }] }),
          liveStatusSchema,
        ),
      where,
      /^tests\[0\]\.outputs\[0\]\.value: /,
    );
  });

  test("a snapshot's progress record", () => {
    const where = 's3://b/net_iter_100.progress.json';
    assert.equal(parseRecord(where, text(progress), progressRecordSchema).iteration, 100);
    namesFileAndField(
      () => parseRecord(where, text({ ...progress, version: 2 }), progressRecordSchema),
      where,
      /^version: /,
    );
    namesFileAndField(
      () =>
        parseRecord(
          where,
          text({ ...progress, position: { ...progress.position, rngs: [{ ...rng, words: [1, 2, 3] }] } }),
          progressRecordSchema,
        ),
      where,
      /^position\.rngs\[0\]\.words: /,
    );
  });
});
