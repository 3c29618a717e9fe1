import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { generateSampleImagenet, type SampleTree } from '../../../hack/sample-imagenet.js';
import { parseListFile } from '../../../trainer/data/convert-imageset.js';
import { nativeCodec } from '../../../trainer/data/native-codec.js';
import {
  readBlobIndependently,
  readDatumsIndependently,
  skipUnlessIndependentReader,
} from './independent-reader.js';
import { runCaffe, runCaffeOk } from './prep-checks.js';

const skip = skipUnlessIndependentReader();
const work = mkdtempSync(join(tmpdir(), 'brewery-convert-'));
after(() => rmSync(work, { recursive: true, force: true }));
let tree: SampleTree;
let listFile: string;
let goodLines: string[];

before(async () => {
  tree = await generateSampleImagenet({
    out: join(work, 'tree'),
    classes: 2,
    perClass: 3,
    valPerClass: 0,
    seed: 9,
    width: 40,
    height: 30,
    brokenPerKind: 1,
  });
  const train = tree.files.filter((f) => f.split === 'train');
  const lines = train.map((f) => `${f.rel} ${tree.synsets.indexOf(f.wnid)}`);
  goodLines = train
    .filter((f) => !['noise', 'empty', 'truncated'].includes(f.broken ?? ''))
    .map((f) => f.rel);
  listFile = join(work, 'train.txt');
  writeFileSync(listFile, `${lines.join('\n')}\n`);
});

test('list lines split at the last space; labels read as atoi', () => {
  assert.deepEqual(parseListFile('a b/c d.JPEG 7\n\nx.JPEG 3x\n', 'l.txt'), [
    { path: 'a b/c d.JPEG', label: 7 },
    { path: 'x.JPEG', label: 3 },
  ]);
  assert.throws(() => parseListFile('nolabel\n', 'l.txt'), /l\.txt:1: expected 'PATH LABEL'/);
});

test('convert_imageset with resize writes raw records keyed by list index; compute_image_mean agrees', {
  skip,
}, async () => {
  const db = join(work, 'raw_lmdb');
  const run = await runCaffeOk([
    'convert_imageset',
    '--resize_width=16',
    '--resize_height=12',
    `${tree.train}/`,
    listFile,
    db,
  ]);
  // Caffe's glog lines on stderr, nothing on stdout.
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^E\d{4} [\d:.]+ +\d+ io\.cpp:80\] Could not open or find file .*broken_noise/m);
  assert.match(
    run.stderr,
    /^I\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ convert_imageset\.cpp:89\] A total of \d+ images\.$/m,
  );
  assert.match(run.stderr, /^I\d{4} [\d:.]+ +\d+ convert_imageset\.cpp:153\] Processed \d+ files\.$/m);
  const records = readDatumsIndependently([db]);
  assert.deepEqual(
    records.map((r) => r.key.slice(9)),
    goodLines,
  );
  records.forEach((r) => {
    const index = Number(r.key.slice(0, 8));
    assert.equal(r.key, `${String(index).padStart(8, '0')}_${r.key.slice(9)}`);
    assert.deepEqual(
      [r.channels, r.height, r.width, r.encoded, r.data.length],
      [3, 12, 16, false, 3 * 12 * 16],
    );
  });
  const meanFile = join(work, 'mean.binaryproto');
  const mean = await runCaffeOk(['compute_image_mean', db, meanFile]);
  assert.equal(mean.stdout, '');
  assert.match(mean.stderr, /^I\d{4} [\d:.]+ +\d+ compute_image_mean\.cpp:114\] Number of channels: 3$/m);
  assert.match(mean.stderr, /^I\d{4} [\d:.]+ +\d+ compute_image_mean\.cpp:101\] Processed \d+ files\.$/m);
  const blob = readBlobIndependently(meanFile);
  assert.deepEqual([blob.num, blob.channels, blob.height, blob.width], [1, 3, 12, 16]);
  for (const i of [0, 100, 575]) {
    const expected = records.reduce((s, r) => s + r.data[i]!, 0) / records.length;
    assert.ok(Math.abs(blob.data[i]! - expected) < 1e-4, `mean[${i}] ${blob.data[i]} vs ${expected}`);
  }
});

test('--encoded keeps the file bytes unless resized; --gray gives one channel', { skip }, async () => {
  const db = join(work, 'encoded_lmdb');
  await runCaffeOk(['convert_imageset', '--encoded', '--shuffle', `${tree.train}/`, listFile, db]);
  const records = readDatumsIndependently([db]);
  const plain = records.find((r) => !r.key.includes('broken'))!;
  assert.equal(plain.encoded, true);
  assert.ok(
    plain.data.equals(readFileSync(join(tree.train, plain.key.slice(9)))),
    'the file bytes were not kept',
  );
  const png = records.find((r) => r.key.includes('broken_png'))!;
  assert.ok(
    png.data.equals(readFileSync(join(tree.train, png.key.slice(9)))),
    'Caffe keeps the file as it is',
  );

  const resizedDb = join(work, 'encoded_resized_lmdb');
  await runCaffeOk([
    'convert_imageset',
    '--encoded',
    '--resize_width=8',
    '--resize_height=8',
    `${tree.train}/`,
    listFile,
    resizedDb,
  ]);
  const resized = readDatumsIndependently([resizedDb]);
  for (const r of resized) {
    assert.deepEqual([r.data[0], r.data[1]], [0xff, 0xd8], `${r.key} was not re-encoded as JPEG`);
  }
  if (nativeCodec) {
    // Caffe's own steps, in Debian's OpenCV (the same libjpeg-turbo): the same bytes.
    const script =
      'import sys, cv2; sys.stdout.buffer.write(cv2.imencode(".jpg", cv2.resize(cv2.imread(sys.argv[1]), (8, 8)))[1].tobytes())';
    const file = join(tree.train, plain.key.slice(9));
    const cv = spawnSync('/usr/bin/python3', ['-c', script, file]);
    assert.equal(cv.status, 0, String(cv.stderr));
    const ours = resized.find((r) => r.key.slice(9) === plain.key.slice(9))!;
    assert.ok(ours.data.equals(cv.stdout), `${plain.key}: not the bytes Caffe's convert_imageset writes`);
  }

  const grayDb = join(work, 'gray_lmdb');
  await runCaffeOk(['convert_imageset', '--gray', `${tree.train}/`, listFile, grayDb]);
  for (const r of readDatumsIndependently([grayDb])) assert.equal(r.channels, 1);
});

test('an existing DB folder is refused, as Caffe does', { skip }, async () => {
  const db = join(work, 'raw_lmdb_twice');
  await runCaffeOk(['convert_imageset', `${tree.train}/`, listFile, db]);
  const again = await runCaffe(['convert_imageset', `${tree.train}/`, listFile, db]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /EEXIST/);
});
