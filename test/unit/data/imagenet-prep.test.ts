import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { generateSampleImagenet, type SampleTree } from '../../../hack/sample-imagenet.js';
import { nativeCodec } from '../../../trainer/data/native-codec.js';
import { readDatumsIndependently, skipUnlessIndependentReader } from './independent-reader.js';
import { checkPreparedDataset, progressOf, runCaffe, runCaffeOk } from './prep-checks.js';

const skip = skipUnlessIndependentReader();
const work = mkdtempSync(join(tmpdir(), 'brewery-prep-'));
after(() => rmSync(work, { recursive: true, force: true }));
let tree: SampleTree;
let cleanManifest: unknown;

before(async () => {
  // 10 classes, 900 train and 80 val images, plus 2 broken files of each kind in train and 1 in val.
  tree = await generateSampleImagenet({
    out: join(work, 'tree'),
    classes: 10,
    perClass: 90,
    valPerClass: 8,
    seed: 7,
    width: 160,
    height: 120,
    brokenPerKind: 2,
  });
});

function prepArgs(out: string, index: number, extra: string[] = []): string[] {
  return [
    'imagenet',
    'prep',
    `--train=${tree.train}`,
    `--val=${tree.val}`,
    `--val-labels=${tree.valLabels}`,
    `--words=${tree.words}`,
    `--out=${out}`,
    '--size=64',
    '--shard-count=4',
    `--shard-index=${index}`,
    '--threads=2',
    ...extra,
  ];
}

test('four workers and finalize make a dataset whose records, labels and mean check out', {
  skip,
}, async () => {
  const out = join(work, 'clean');
  await Promise.all([0, 1, 2, 3].map((i) => runCaffeOk(prepArgs(out, i))));
  const finalize = await runCaffeOk(['imagenet', 'finalize', `--out=${out}`]);
  assert.match(finalize.stdout, /mean_value channel \[2\]: \d/);
  cleanManifest = await checkPreparedDataset(out, tree, { size: 64, encoded: true, shardCount: 4 });
  const words = readFileSync(join(out, 'synset_words.txt'), 'utf8').trim().split('\n');
  assert.deepEqual(
    words.map((line) => line.split(' ')[0]),
    tree.synsets,
  );
  const trainList = readFileSync(join(out, 'train.txt'), 'utf8').trim().split('\n');
  assert.equal(
    trainList.length,
    (cleanManifest as { splits: { train: { records: number } } }).splits.train.records,
  );
  assert.match(trainList[0]!, /^n\d{8}\/\S+\.JPEG \d+$/);
  if (nativeCodec) {
    // Caffe's convert_imageset through OpenCV: imread, resize, imencode at quality 95. With the native
    // codec (the same libjpeg-turbo as Debian's OpenCV) every record is those bytes.
    const broken = new Set(tree.files.filter((f) => f.broken).map((f) => f.rel));
    const records = readDatumsIndependently([join(out, 'train/shard-00001-of-00004')])
      .map((r) => ({ rel: r.key.slice(9), data: r.data }))
      .filter((r) => !broken.has(r.rel))
      .slice(0, 20);
    const script = [
      'import base64, sys, cv2',
      'for f in sys.argv[1:]:',
      '    ok, jpeg = cv2.imencode(".jpg", cv2.resize(cv2.imread(f), (64, 64)), [cv2.IMWRITE_JPEG_QUALITY, 95])',
      '    print(base64.b64encode(jpeg.tobytes()).decode())',
    ].join('\n');
    const files = records.map((r) => join(tree.train, r.rel));
    const cv = spawnSync('/usr/bin/python3', ['-c', script, ...files], { encoding: 'utf8' });
    assert.equal(cv.status, 0, cv.stderr);
    const theirs = cv.stdout.trim().split('\n');
    assert.equal(records.length, 20);
    for (const [i, r] of records.entries()) {
      assert.ok(Buffer.from(theirs[i]!, 'base64').equals(r.data), `${r.rel}: not the bytes OpenCV writes`);
    }
  }
});

test('a worker killed mid-shard and run again gives the same manifest', { skip }, async () => {
  assert.ok(cleanManifest, 'needs the clean run of the test before');
  const out = join(work, 'killed');
  let killedAt = 0;
  const [killed] = await Promise.all([
    runCaffe(prepArgs(out, 2, ['--progress-interval=0']), {}, (line) => {
      const p = progressOf(line);
      if (p?.split === 'train' && Number(p.done) >= 40 && killedAt === 0) {
        killedAt = Number(p.done);
        return true;
      }
      return false;
    }),
    ...[0, 1, 3].map((i) => runCaffeOk(prepArgs(out, i))),
  ]);
  assert.equal(killed.signal, 'SIGKILL', `worker 2 ended before it could be killed:\n${killed.stderr}`);
  assert.ok(!existsSync(join(out, 'shards/train-00002-of-00004.json')), 'the killed shard has no marker');
  const finished = join(out, 'train/shard-00000-of-00004/data.mdb');
  const before = statSync(finished);
  const early = await runCaffe(['imagenet', 'finalize', `--out=${out}`]);
  assert.equal(early.code, 1, 'finalize must refuse an unfinished dataset');
  assert.match(early.stderr, /train-00002-of-00004\.json/);

  const rerun = await runCaffeOk(prepArgs(out, 2, ['--progress-interval=0']));
  const firstLine = rerun.stderr
    .split('\n')
    .map(progressOf)
    .find((p) => p !== undefined);
  assert.deepEqual([firstLine?.split, firstLine?.shard], ['train', 2]);
  await runCaffeOk(prepArgs(out, 0)); // a finished worker run again redoes nothing
  const afterRerun = statSync(finished);
  assert.equal(afterRerun.mtimeMs, before.mtimeMs, 'a finished shard was written again');
  assert.equal(afterRerun.ino, before.ino);
  await runCaffeOk(['imagenet', 'finalize', `--out=${out}`]);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest, cleanManifest);
});

test('the default size 256 with --encoded=false writes raw planar BGR records', { skip }, async () => {
  const small = await generateSampleImagenet({
    out: join(work, 'small'),
    classes: 3,
    perClass: 3,
    valPerClass: 1,
    seed: 3,
    width: 160,
    height: 120,
    brokenPerKind: 0,
  });
  const out = join(work, 'raw256');
  await runCaffeOk([
    'imagenet',
    'prep',
    `--train=${small.train}`,
    `--val=${small.val}`,
    `--val-labels=${small.valLabels}`,
    `--out=${out}`,
    '--encoded=false',
  ]);
  await runCaffeOk(['imagenet', 'finalize', `--out=${out}`]);
  await checkPreparedDataset(out, small, { size: 256, encoded: false, shardCount: 1 });
  assert.ok(!existsSync(join(out, 'synset_words.txt')), 'no words file was given');
  // The bytes are the source squashed to 256x256 as convert_imageset does it (OpenCV's imread and
  // bilinear resize), in B, G, R planes: every byte.
  const [first] = readDatumsIndependently([join(out, 'train/shard-00000-of-00001')]);
  const rel = first!.key.slice(9);
  const script =
    'import sys, cv2; sys.stdout.buffer.write(cv2.resize(cv2.imread(sys.argv[1]), (256, 256)).tobytes())';
  const resized = spawnSync('/usr/bin/python3', ['-c', script, join(small.train, rel)], {
    maxBuffer: 1 << 24,
  });
  assert.equal(resized.status, 0, String(resized.stderr));
  const hwc = resized.stdout;
  const area = 256 * 256;
  const planar = Buffer.alloc(3 * area);
  for (let i = 0; i < area; i++) for (let c = 0; c < 3; c++) planar[c * area + i] = hwc[3 * i + c]!;
  assert.ok(planar.equals(first!.data), 'raw records differ from cv2.resize(cv2.imread(file), (256, 256))');
});
