// LoaderDataSource hands a batch's buffer back to the loader only once the backend has let go of
// the tensor made from it: a tensor still held keeps its values, whatever batches come after, and
// batches made in recycled buffers are the batches made in new ones. On cpu (which keeps the very
// array) and wasm (which copies it).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';

import { initBackend } from '../../../trainer/backend/index.js';
import { LmdbWriter } from '../../../trainer/data/lmdb-writer.js';
import { DataLoader } from '../../../trainer/data/loader.js';
import { encodedDatumBytes } from '../../../trainer/data/records.js';
import { Rng } from '../../../trainer/rng.js';
import { LoaderDataSource } from '../../../trainer/train/loader-source.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-loader-source-'));
const db = join(work, 'db');
after(() => rmSync(work, { recursive: true, force: true }));

before(async () => {
  const writer = new LmdbWriter(db);
  for (let i = 0; i < 8; i++) {
    const rng = new Rng(i + 1);
    const pixels = Buffer.from(Array.from({ length: 12 * 10 * 3 }, () => rng.nextInt(256)));
    const jpeg = await sharp(pixels, { raw: { width: 12, height: 10, channels: 3 } })
      .jpeg()
      .toBuffer();
    writer.put(Buffer.from(`0000000${i}_x`), encodedDatumBytes(jpeg, i));
  }
  writer.finish();
});

function openLoader() {
  return DataLoader.open({
    source: { type: 'Data', uri: db },
    batchSize: 2,
    phase: 'TRAIN',
    transform: { cropSize: 8, mirror: true, meanValue: [100] },
    shuffle: true,
    seed: 3,
    threads: 1,
  });
}

for (const backend of ['cpu', 'wasm']) {
  test(`on ${backend}: only released batches are recycled, and recycled batches are right`, {
    timeout: 60_000,
  }, async () => {
    await initBackend(backend, { log: () => {} });
    const reference = await openLoader();
    const expected: Float32Array[] = [];
    for (let i = 0; i < 8; i++) expected.push((await reference.next()).data);
    await reference.close();

    const loader = await openLoader();
    const recycled: Float32Array[] = [];
    const recycle = loader.recycle.bind(loader);
    loader.recycle = (data) => {
      recycled.push(data);
      recycle(data);
    };
    const source = new LoaderDataSource(loader, [
      [2, 3, 8, 8],
      [2, 1, 1, 1],
    ]);
    const kept = await source.next(); // held to the end
    const keptValues = kept[0]!.dataSync().slice();
    const clone = tf.clone((await source.next())[0]!); // its batch is disposed below, the clone kept
    for (let i = 2; i < 8; i++) {
      const batch = await source.next();
      assert.deepEqual(batch[0]!.dataSync(), expected[i], `batch ${i}`);
      tf.dispose(batch);
    }
    assert.deepEqual(kept[0]!.dataSync(), keptValues, 'a held batch changed');
    assert.deepEqual(clone.dataSync(), expected[1], 'a held clone changed');
    assert.ok(recycled.length >= 4, `only ${recycled.length} buffers were recycled`);
    assert.ok(!recycled.some((d) => d.buffer === kept[0]!.dataSync().buffer), 'a held batch was recycled');
    tf.dispose([...kept, clone]);
    await source.close();
  });
}
