import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import sharp from 'sharp';

import { LmdbWriter } from '../../../trainer/data/lmdb-writer.js';
import { type Batch, DataLoader, type LoaderOptions } from '../../../trainer/data/loader.js';
import { encodedDatumBytes, meanBlobBytes, rawDatumBytes } from '../../../trainer/data/records.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-loader-'));
after(() => rmSync(work, { recursive: true, force: true }));
const C = 3;
const H = 6;
const W = 6;

/** Record r: every pixel of channel c is (r + 10 * c) % 256, label r. */
function writeShards(dir: string, shards: number, perShard: number): void {
  let r = 0;
  for (let s = 0; s < shards; s++) {
    const writer = new LmdbWriter(join(dir, `shard-${s}`));
    for (let i = 0; i < perShard; i++, r++) {
      const pixels = new Uint8Array(C * H * W);
      for (let c = 0; c < C; c++) pixels.fill((r + 10 * c) % 256, c * H * W, (c + 1) * H * W);
      writer.put(Buffer.from(`${String(r).padStart(8, '0')}_r${r}`), rawDatumBytes(pixels, C, H, W, r));
    }
    writer.finish();
  }
}

const shardsDir = join(work, 'shards');
before(() => writeShards(shardsDir, 3, 10));

function options(extra: Partial<LoaderOptions> = {}): LoaderOptions {
  return {
    source: { type: 'Data', uri: shardsDir },
    batchSize: 4,
    phase: 'TEST',
    transform: {},
    shuffle: false,
    seed: 5,
    threads: 2,
    ...extra,
  };
}

async function take(loader: DataLoader, n: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for (let i = 0; i < n; i++) out.push(await loader.next());
  return out;
}

test('without shuffle, records come in key order across shards and wrap to the first', async () => {
  const loader = await DataLoader.open(options({ transform: { meanValue: [1, 2, 3], scale: 2 } }));
  const batches = await take(loader, 8); // 32 records from 30: wraps after record 29
  await loader.close();
  const labels = batches.flatMap((b) => [...b.labels]);
  assert.deepEqual(labels, [...Array.from({ length: 30 }, (_, i) => i), 0, 1]);
  const first = batches[0]!;
  assert.deepEqual(first.shape, [4, C, H, W]);
  // record 1, channel 2 (R): ((1 + 20) - 3) * 2 = 36, at every position of that plane
  const at = (n: number, c: number) => first.data[((n * C + c) * H + 2) * W + 3];
  assert.equal(at(1, 2), 36);
  assert.equal(at(0, 0), -2);
});

test('shuffled TRAIN epochs hold every record once, and a restored position continues exactly', async () => {
  const settings = options({ shuffle: true, phase: 'TRAIN', transform: { cropSize: 4, mirror: true } });
  const a = await DataLoader.open(settings);
  const firstEpoch = await take(a, 3);
  const saved = a.position();
  const rest = await take(a, 9);
  await a.close();
  const epochOne = [...firstEpoch, ...rest].flatMap((b) => [...b.labels]).slice(0, 30);
  assert.deepEqual(
    [...epochOne].sort((x, y) => x - y),
    Array.from({ length: 30 }, (_, i) => i),
  );
  assert.notDeepEqual(
    epochOne.slice(0, 10),
    Array.from({ length: 10 }, (_, i) => i),
    'records were not shuffled',
  );
  assert.deepEqual(saved.batches, 3);

  const b = await DataLoader.open({ ...settings, position: JSON.parse(JSON.stringify(saved)) });
  const resumed = await take(b, 9);
  await b.close();
  resumed.forEach((batch, i) => {
    assert.deepEqual(batch.labels, rest[i]!.labels, `labels of batch ${i + 3}`);
    assert.deepEqual(batch.data, rest[i]!.data, `data of batch ${i + 3}`);
  });
});

test('the same seed gives the same batches whatever the thread count', async () => {
  const settings = options({ shuffle: true, phase: 'TRAIN', transform: { cropSize: 3, mirror: true } });
  const one = await DataLoader.open({ ...settings, threads: 1 });
  const two = await DataLoader.open({ ...settings, threads: 2 });
  const [x, y] = [await take(one, 5), await take(two, 5)];
  await Promise.all([one.close(), two.close()]);
  x.forEach((batch, i) => {
    assert.deepEqual(batch.data, y[i]!.data);
  });
});

test('encoded records are decoded; force_gray gives one channel; a mean file is applied', async () => {
  const dir = join(work, 'encoded');
  const writer = new LmdbWriter(dir);
  for (let i = 0; i < 4; i++) {
    const rgb = Buffer.alloc(8 * 8 * 3, 0);
    for (let p = 0; p < 64; p++) rgb[3 * p] = 200; // pure red
    const jpeg = await sharp(rgb, { raw: { width: 8, height: 8, channels: 3 } })
      .jpeg({ quality: 100 })
      .toBuffer();
    writer.put(Buffer.from(`0000000${i}_x`), encodedDatumBytes(jpeg, i));
  }
  writer.finish();
  const meanFile = join(work, 'mean.binaryproto');
  writeFileSync(meanFile, meanBlobBytes(new Float32Array(3 * 64).fill(50), 3, 8, 8));
  const colour = await DataLoader.open(
    options({ source: { type: 'Data', uri: dir }, transform: { meanFile } }),
  );
  const batch = await colour.next();
  await colour.close();
  assert.deepEqual(batch.shape, [4, 3, 8, 8]);
  // BGR planes: blue about 0 - 50, red about 200 - 50 (JPEG may move a value by a little)
  assert.ok(Math.abs(batch.data[0]! + 50) <= 3, `blue ${batch.data[0]}`);
  assert.ok(Math.abs(batch.data[2 * 64]! - 150) <= 3, `red ${batch.data[2 * 64]}`);
  const gray = await DataLoader.open(
    options({ source: { type: 'Data', uri: dir }, transform: { forceGray: true } }),
  );
  assert.deepEqual((await gray.next()).shape, [4, 1, 8, 8]);
  await gray.close();
});

test('ImageData reads a list file under root_folder and resizes to new_height x new_width', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 5; i++) {
    const rgb = Buffer.alloc(20 * 10 * 3, 30 * i);
    await sharp(rgb, { raw: { width: 20, height: 10, channels: 3 } })
      .png()
      .toFile(join(work, `img${i}.png`));
    lines.push(`img${i}.png ${i + 10}`);
  }
  writeFileSync(join(work, 'list.txt'), `${lines.join('\n')}\n`);
  const loader = await DataLoader.open(
    options({
      source: {
        type: 'ImageData',
        listFile: join(work, 'list.txt'),
        rootFolder: `${work}/`,
        newHeight: 7,
        newWidth: 9,
        isColor: true,
      },
      batchSize: 5,
      shuffle: true,
    }),
  );
  const batch = await loader.next();
  await loader.close();
  assert.deepEqual(batch.shape, [5, 3, 7, 9]);
  assert.deepEqual(
    [...batch.labels].sort((x, y) => x - y),
    [10, 11, 12, 13, 14],
  );
  batch.labels.forEach((label, n) => {
    assert.equal(batch.data[n * 3 * 63], 30 * (label - 10));
  });
});

test('a mean file of another size is refused with both sizes named', async () => {
  const meanFile = join(work, 'mean256.binaryproto');
  writeFileSync(meanFile, meanBlobBytes(new Float32Array(3 * 4), 3, 2, 2));
  const loader = await DataLoader.open(options({ transform: { meanFile } }));
  await assert.rejects(loader.next(), /mean_file is 3x2x2 but the data is 3x6x6/);
  await loader.close();
});
