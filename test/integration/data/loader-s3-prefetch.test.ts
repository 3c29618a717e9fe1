// The loader streams S3 shards from the object server: the part read next downloads while one is
// read (across the epoch wrap too), never more than two shards on disk, and the records come out as
// they do without prefetch and from the same shards on local disk.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { S3Client } from '@aws-sdk/client-s3';

import { LmdbWriter } from '../../../trainer/data/lmdb-writer.js';
import { DataLoader, type LoaderOptions, type ShardOpenEvent } from '../../../trainer/data/loader.js';
import { rawDatumBytes } from '../../../trainer/data/records.js';
import { ShardCache } from '../../../trainer/data/shard-cache.js';
import { s3ConfigFromEnv } from '../../../trainer/storage/index.js';
import { S3Storage } from '../../../trainer/storage/s3.js';
import { type ObjectStore, objectStore, objectStoreMissing } from '../../support/object-store.js';
import { CAFFE_MAIN } from '../../support/tiny-net.js';

const SHARDS = 5;
const PER_SHARD = 12;
const BATCH = 6;
const C = 3;
const H = 6;
const W = 6;

const skip = objectStoreMissing() ?? false;
const work = mkdtempSync(join(tmpdir(), 'brewery-loader-s3-'));
const localShards = join(work, 'shards');
let store: ObjectStore;
let remoteShards = '';
const savedEnv = { ...process.env };

/** Record r: channel c's pixels are all (r + 10 * c) % 256, label r. */
function writeShards(): void {
  let r = 0;
  for (let s = 0; s < SHARDS; s++) {
    const writer = new LmdbWriter(join(localShards, `shard-${String(s).padStart(5, '0')}-of-${SHARDS}`));
    for (let i = 0; i < PER_SHARD; i++, r++) {
      const pixels = new Uint8Array(C * H * W);
      for (let c = 0; c < C; c++) pixels.fill((r + 10 * c) % 256, c * H * W, (c + 1) * H * W);
      writer.put(Buffer.from(`${String(r).padStart(8, '0')}_r${r}`), rawDatumBytes(pixels, C, H, W, r));
    }
    writer.finish();
  }
}

before(async () => {
  if (skip) return;
  store = await objectStore();
  Object.assign(process.env, store.env); // the loader's storageFor reaches the same server
  const s3 = new S3Storage(new S3Client(s3ConfigFromEnv(store.env)));
  remoteShards = `${await store.bucket('loader-prefetch')}/dataset/train`;
  writeShards();
  for (const shard of readdirSync(localShards)) {
    await s3.putFile(join(localShards, shard, 'data.mdb'), `${remoteShards}/${shard}/data.mdb`);
  }
});
after(async () => {
  process.env = savedEnv;
  rmSync(work, { recursive: true, force: true });
  await store?.stop();
});

interface Pass {
  labels: number[];
  data: Float32Array[];
  opens: ShardOpenEvent[];
  highWater: number | undefined;
  cacheFolder: string | undefined;
}

/** `batches` batches from a fresh loader, with every shard open it reports. */
async function readPass(options: Partial<LoaderOptions>, batches: number): Promise<Pass> {
  const opens: ShardOpenEvent[] = [];
  const loader = await DataLoader.open({
    source: { type: 'Data', uri: remoteShards },
    batchSize: BATCH,
    phase: 'TEST',
    transform: {},
    shuffle: false,
    seed: 3,
    threads: 1,
    onShardOpen: (event) => opens.push(event),
    ...options,
  });
  const labels: number[] = [];
  const data: Float32Array[] = [];
  try {
    for (let i = 0; i < batches; i++) {
      const batch = await loader.next();
      labels.push(...batch.labels);
      data.push(batch.data);
    }
  } finally {
    await loader.close();
  }
  // Read after close: the batches prepared ahead have opened their shards too by then.
  const cache = loader.shardCache();
  return { labels, data, opens, highWater: cache?.highWater, cacheFolder: cache?.dir };
}

test('an epoch and a half of five S3 shards: the next shard prefetched, at most two on disk, records in order', {
  skip,
}, async () => {
  const cacheDir = join(work, 'cache-sequential');
  const batches = (SHARDS * PER_SHARD * 3) / 2 / BATCH;
  const streamed = await readPass({ cacheDir }, batches);
  const unfetched = await readPass({ cacheDir, shardPrefetch: false }, batches);

  // Caffe's cursor: key order across the shards, the first again after the last.
  const records = SHARDS * PER_SHARD;
  const expected = Array.from({ length: batches * BATCH }, (_, i) => i % records);
  assert.deepEqual(streamed.labels, expected);
  assert.deepEqual(unfetched.labels, expected);
  assert.deepEqual(streamed.data, unfetched.data);

  assert.deepEqual(
    streamed.opens.slice(0, 8).map((e) => e.part),
    [0, 1, 2, 3, 4, 0, 1, 2],
    'the parts open in order, and after the last comes the first',
  );
  // The cache's own count of downloads held (a partial one included) cannot miss a moment; the
  // folder, counted at each open while the next part downloads, agrees.
  assert.equal(streamed.highWater, 2);
  for (const event of streamed.opens) {
    assert.ok(
      event.held! <= 2 && event.filesOnDisk! <= 2,
      `too many shards on disk: ${JSON.stringify(event)}`,
    );
  }
  // Every part but the first was downloading or on disk before it was needed, the wrap included.
  assert.deepEqual(
    streamed.opens.map((e) => e.prefetched),
    streamed.opens.map((_, i) => i > 0),
  );
  assert.equal(unfetched.highWater, 1);
  assert.ok(unfetched.opens.every((e) => e.prefetched === false && e.filesOnDisk === 1));

  // Each loader's folder was its own, under --cache_dir, and is gone after close.
  assert.ok(streamed.cacheFolder?.startsWith(cacheDir));
  assert.equal(existsSync(streamed.cacheFolder!), false);
  assert.deepEqual(readdirSync(cacheDir), []);
});

test('shuffled epochs: the first part of the next epoch is guessed right, batches as from local disk', {
  skip,
}, async () => {
  const batches = (SHARDS * PER_SHARD * 2) / BATCH;
  const shuffled = { phase: 'TRAIN' as const, shuffle: true, transform: { mirror: true } };
  const streamed = await readPass({ ...shuffled, cacheDir: join(work, 'cache-shuffled') }, batches);
  const local = await readPass({ ...shuffled, source: { type: 'Data', uri: localShards } }, batches);

  assert.deepEqual(streamed.labels, local.labels);
  assert.deepEqual(streamed.data, local.data);
  assert.notDeepEqual(
    streamed.labels.slice(0, PER_SHARD * SHARDS),
    Array.from({ length: PER_SHARD * SHARDS }, (_, i) => i),
  );
  assert.deepEqual(
    local.opens.map((e) => e.part),
    streamed.opens.map((e) => e.part),
  );
  assert.ok(streamed.opens.length > SHARDS, 'the pass reaches the second epoch');
  assert.equal(streamed.highWater, 2);
  assert.deepEqual(
    streamed.opens.map((e) => e.prefetched),
    streamed.opens.map((_, i) => i > 0),
  );
});

test('a download of another size than listed is refused and leaves no file', { skip }, async () => {
  const shard = readdirSync(localShards)[0]!;
  const uri = `${remoteShards}/${shard}/data.mdb`;
  const size = (await new S3Storage(new S3Client(s3ConfigFromEnv(store.env))).stat(uri))!.size;
  const cache = await ShardCache.create([{ uri, size: size + 1 }], join(work, 'cache-size'));
  try {
    await assert.rejects(
      cache.fetch(0),
      new RegExp(`${uri}: expected a download of ${size + 1} bytes as listed, received ${size}`),
    );
    assert.equal(await cache.filesOnDisk(), 0);
  } finally {
    await cache.close();
  }
});

test('caffe train --cache_dir streams the shards: each opened in turn past the epoch wrap, the folder left empty', {
  skip,
}, async () => {
  const dir = join(work, 'train');
  const cacheDir = join(dir, 'cache');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'net.prototxt'),
    `name: "shards"
layer { name: "data" type: "Data" top: "data" top: "label"
  data_param { source: "${remoteShards}" batch_size: ${BATCH} backend: LMDB } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
  inner_product_param { num_output: ${SHARDS * PER_SHARD} weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`,
  );
  const iterations = (SHARDS * PER_SHARD * 3) / 2 / BATCH;
  writeFileSync(
    join(dir, 'solver.prototxt'),
    `net: "net.prototxt"\nbase_lr: 0.01\nlr_policy: "fixed"\nmax_iter: ${iterations}\ndisplay: 5\nsnapshot_prefix: "snap"\nrandom_seed: 5\n`,
  );
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [CAFFE_MAIN, 'train', '--backend=cpu', '--solver=solver.prototxt', `--cache_dir=${cacheDir}`],
      { cwd: dir, timeout: 120_000, env: { ...process.env, ...store.env } },
      (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
    );
  });
  assert.equal(code, 0, stderr);
  const opened = [...stderr.matchAll(/db_lmdb\.cpp:\d+\] Opened lmdb (\S+)/g)].map((m) => m[1]);
  const shards = readdirSync(localShards).map((name) => `${remoteShards}/${name}`);
  // An epoch and a half, the loader's batches ahead included: every shard, then the first ones again.
  assert.deepEqual(opened.slice(0, SHARDS + 3), [...shards, ...shards.slice(0, 3)]);
  assert.deepEqual(readdirSync(cacheDir), [], 'the loader removes its folder when training ends');
});
