import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { recordKey, sliceOf } from '../../../trainer/data/layout.js';
import { asciiCompare, parseLabelFile, parseWordsFile, scanImagenet } from '../../../trainer/data/scan.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-scan-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('synsets sort in ASCII order (upper case before lower, digits before letters)', () => {
  assert.deepEqual(['n02', 'N01', 'n01', 'a'].sort(asciiCompare), ['N01', 'a', 'n01', 'n02']);
});

test('label files take NAME LABEL or NAME WNID lines, split at the last space', () => {
  const labels = parseLabelFile('a b.JPEG 1\nc.JPEG n02\n\n', ['n01', 'n02'], 'val.txt');
  assert.deepEqual(
    [...labels],
    [
      ['a b.JPEG', 1],
      ['c.JPEG', 1],
    ],
  );
  assert.throws(
    () => parseLabelFile('x.JPEG 2\n', ['n01', 'n02'], 'val.txt'),
    /val\.txt:1: expected a label below 2/,
  );
  assert.throws(() => parseLabelFile('x.JPEG n09\n', ['n01'], 'val.txt'), /received 'n09'/);
});

test('words files map a wnid to the rest of its line', () => {
  assert.deepEqual(
    [...parseWordsFile('n01 tench, Tinca tinca\nn02\tgoldfish\n')],
    [
      ['n01', 'tench, Tinca tinca'],
      ['n02', 'goldfish'],
    ],
  );
});

test('slices of N workers cover every record exactly once', () => {
  for (const [total, count] of [
    [10, 4],
    [3, 4],
    [1000, 7],
    [0, 2],
  ] as const) {
    const seen: number[] = [];
    for (let i = 0; i < count; i++) {
      const { start, end } = sliceOf(total, i, count);
      for (let r = start; r < end; r++) seen.push(r);
    }
    assert.deepEqual(
      seen,
      Array.from({ length: total }, (_, r) => r),
      `${total} records, ${count} workers`,
    );
  }
});

test('keys are convert_imageset keys', () => {
  assert.equal(recordKey(12, 'n01440764/n01440764_10026.JPEG'), '00000012_n01440764/n01440764_10026.JPEG');
});

test('a scan labels train by sorted synset and val by label file, and lists what it leaves out', async () => {
  const root = join(work, 'tree');
  for (const f of [
    'train/n02/b.JPEG',
    'train/n01/a.JPEG',
    'train/n01/.hidden',
    'train/stray.JPEG',
    'val/v1.JPEG',
    'val/v2.JPEG',
  ]) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), 'x');
  }
  writeFileSync(join(root, 'val.txt'), 'v1.JPEG n02\n');
  const scan = await scanImagenet({
    train: join(root, 'train'),
    val: join(root, 'val'),
    valLabels: join(root, 'val.txt'),
  });
  assert.deepEqual(scan.synsets, ['n01', 'n02']);
  assert.deepEqual(
    [...scan.train].map((s) => [s.rel, s.label]),
    [
      ['n01/a.JPEG', 0],
      ['n02/b.JPEG', 1],
    ],
  );
  assert.deepEqual(
    [...scan.val].map((s) => [s.rel, s.label]),
    [['v1.JPEG', 1]],
  );
  assert.deepEqual(
    scan.unlabeled.map((u) => [u.split, u.path]),
    [
      ['train', 'stray.JPEG'],
      ['val', 'v2.JPEG'],
    ],
  );
});
