import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';

import { S3Client } from '@aws-sdk/client-s3';

import { generateSampleImagenet, type SampleTree } from '../../../hack/sample-imagenet.js';
import { DataLoader } from '../../../trainer/data/loader.js';
import { LocalStorage, s3ConfigFromEnv } from '../../../trainer/storage/index.js';
import { S3Storage } from '../../../trainer/storage/s3.js';
import { type ObjectStore, objectStore, objectStoreMissing } from '../../support/object-store.js';
import { skipUnlessIndependentReader } from '../../unit/data/independent-reader.js';
import { checkPreparedDataset, runCaffeOk } from '../../unit/data/prep-checks.js';

const skip = objectStoreMissing() ?? skipUnlessIndependentReader();
const work = mkdtempSync(join(tmpdir(), 'brewery-prep-s3-'));
let store: ObjectStore;
let s3: S3Storage;
let tree: SampleTree;
let bucket: string;

before(async () => {
  if (skip) return;
  store = await objectStore();
  s3 = new S3Storage(new S3Client(s3ConfigFromEnv(store.env)));
  bucket = await store.bucket('imagenet-prep-test');
  tree = await generateSampleImagenet({
    out: join(work, 'tree'),
    classes: 10,
    perClass: 20,
    valPerClass: 3,
    seed: 11,
    width: 160,
    height: 120,
    brokenPerKind: 1,
  });
  for (const object of await new LocalStorage().list(join(work, 'tree'))) {
    await s3.putFile(object.uri, `${bucket}/raw/${relative(join(work, 'tree'), object.uri)}`);
  }
});
after(async () => {
  rmSync(work, { recursive: true, force: true });
  await store?.stop();
});

test('four workers and finalize from and to the object server', { skip }, async () => {
  const out = `${bucket}/prepared`;
  const args = (i: number) => [
    'imagenet',
    'prep',
    `--train=${bucket}/raw/train`,
    `--val=${bucket}/raw/val`,
    `--val-labels=${bucket}/raw/val.txt`,
    `--words=${bucket}/raw/words.txt`,
    `--out=${out}`,
    '--size=64',
    '--shard-count=4',
    `--shard-index=${i}`,
    '--threads=2',
  ];
  await Promise.all([0, 1, 2, 3].map((i) => runCaffeOk(args(i), store.env)));
  await runCaffeOk(['imagenet', 'finalize', `--out=${out}`], store.env);

  const objects = (await s3.list(out)).map((o) => o.uri.slice(out.length + 1));
  assert.ok(
    objects.every((name) => !name.includes('tmp')),
    `temporary objects left: ${objects}`,
  );
  assert.ok(objects.includes('train/shard-00003-of-00004/data.mdb'));
  const local = join(work, 'prepared');
  for (const name of objects) await s3.getFile(`${out}/${name}`, join(local, name));
  const manifest = await checkPreparedDataset(local, tree, { size: 64, encoded: true, shardCount: 4 });

  // The loader streams the same shards from S3: one epoch holds every train record once.
  Object.assign(process.env, store.env);
  const loader = await DataLoader.open({
    source: { type: 'Data', uri: `${out}/train` },
    batchSize: manifest.splits.train.records,
    phase: 'TRAIN',
    transform: { cropSize: 56, mirror: true, meanFile: `${out}/mean.binaryproto` },
    shuffle: true,
    seed: 1,
    threads: 2,
    cacheDir: join(work, 'cache'),
  });
  const batch = await loader.next();
  await loader.close();
  assert.deepEqual(batch.shape, [manifest.splits.train.records, 3, 56, 56]);
  const perLabel: Record<string, number> = {};
  for (const label of batch.labels) {
    const wnid = tree.synsets[label]!;
    perLabel[wnid] = (perLabel[wnid] ?? 0) + 1;
  }
  assert.deepEqual(perLabel, manifest.splits.train.perClass);
});
