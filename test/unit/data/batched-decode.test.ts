// The fast paths of prep and the loader (many JPEGs per sharp call, the transform straight from
// interleaved RGB) must give exactly what the one-image-at-a-time paths give.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import sharp from 'sharp';

import {
  addDecodedAllInto,
  addDecodedInto,
  decodeImage,
  decodeJpegsRgb,
  isPlainColourJpeg,
  jpegFrame,
} from '../../../trainer/data/images.js';
import { LmdbWriter } from '../../../trainer/data/lmdb-writer.js';
import { DataLoader } from '../../../trainer/data/loader.js';
import { encodedDatumBytes, meanBlobBytes } from '../../../trainer/data/records.js';
import {
  placement,
  type TransformSettings,
  transformInto,
  transformRgbInto,
} from '../../../trainer/data/transform.js';
import { Rng } from '../../../trainer/rng.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-batched-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Noisy RGB bytes: JPEG coding of them exercises every coefficient. */
function noise(width: number, height: number, seed: number, channels = 3): Buffer {
  const rng = new Rng(seed);
  return Buffer.from(Array.from({ length: width * height * channels }, () => rng.nextInt(256)));
}

function jpeg(width: number, height: number, seed: number): Promise<Buffer> {
  return sharp(noise(width, height, seed), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

test('jpegFrame reads size and components; only whole colour JPEGs without a profile are plain', async () => {
  const colour = await jpeg(20, 12, 1);
  assert.deepEqual(jpegFrame(colour), { width: 20, height: 12, components: 3, icc: false });
  assert.equal(isPlainColourJpeg(colour), true);
  const raw = { raw: { width: 20, height: 12, channels: 3 as const } };
  const gray = await sharp(noise(20, 12, 2), raw)
    .toColourspace('b-w')
    .jpeg()
    .toBuffer();
  const cmyk = await sharp(noise(20, 12, 3), raw)
    .toColourspace('cmyk')
    .jpeg()
    .toBuffer();
  const withIcc = await sharp(noise(20, 12, 4), raw)
    .withIccProfile('p3')
    .jpeg()
    .toBuffer();
  const png = await sharp(noise(20, 12, 5), raw)
    .png()
    .toBuffer();
  assert.equal(jpegFrame(gray)?.components, 1);
  assert.equal(jpegFrame(cmyk)?.components, 4);
  assert.equal(jpegFrame(withIcc)?.icc, true);
  assert.equal(jpegFrame(png), undefined);
  for (const other of [gray, cmyk, withIcc, png, colour.subarray(0, colour.length - 40)]) {
    assert.equal(isPlainColourJpeg(other), false);
  }
});

test('JPEGs decoded many per call give the bytes of each decoded alone', async () => {
  const jpegs = await Promise.all([1, 2, 3, 4, 5].map((seed) => jpeg(24, 16, seed)));
  const joined = await decodeJpegsRgb(jpegs, 24, 16);
  const alone = await Promise.all(jpegs.map((j) => sharp(j).raw().toBuffer()));
  assert.deepEqual(joined, Buffer.concat(alone));
  assert.deepEqual(await decodeJpegsRgb(jpegs.slice(0, 1), 24, 16), alone[0]);
  await assert.rejects(decodeJpegsRgb(jpegs, 16, 24), /expected 5 RGB images of 16x24, received 24x80x3/);
});

test('batched sums equal one-by-one sums, for plain JPEGs and for a mix that needs conversion', async () => {
  const plain = await Promise.all([1, 2, 3].map((seed) => jpeg(8, 6, seed)));
  const raw = { raw: { width: 8, height: 6, channels: 3 as const } };
  const gray = await sharp(noise(8, 6, 9), raw)
    .toColourspace('b-w')
    .jpeg()
    .toBuffer();
  for (const images of [plain, [...plain, gray]]) {
    const batched = new Float64Array(3 * 48);
    const single = new Float64Array(3 * 48);
    await addDecodedAllInto(batched, images);
    for (const image of images) await addDecodedInto(single, image);
    assert.deepEqual(batched, single);
    assert.ok(single.some((v) => v > 0));
  }
});

test('the transform from interleaved RGB equals the one from planar BGR', async () => {
  const [height, width] = [7, 9];
  const rgb = noise(width, height, 7);
  const planar = (
    await decodeImage(
      await sharp(rgb, { raw: { width, height, channels: 3 } })
        .png()
        .toBuffer(),
    )
  ).pixels;
  const meanImage = { channels: 3, height, width, data: Float32Array.from(noise(width, height, 8)) };
  const settings: TransformSettings[] = [
    { phase: 'TRAIN', scale: 0.5, mirror: true, cropSize: 5, meanImage },
    { phase: 'TRAIN', scale: 1, mirror: true, cropSize: 4, meanValues: [104, 117, 123] },
    { phase: 'TEST', scale: 2, mirror: false, cropSize: 0, meanValues: [100] },
  ];
  for (const s of settings) {
    for (const draws of [
      [0, 1, 3],
      [1, 2, 4],
    ]) {
      const p = placement(height, width, s, draws);
      const size = 3 * p.outHeight * p.outWidth;
      const [a, b] = [new Float32Array(size + 2), new Float32Array(size + 2)];
      transformInto(planar, 3, height, width, s, p, a, 1);
      transformRgbInto(rgb, height, width, s, p, b, 1);
      assert.deepEqual(b, a);
    }
  }
});

test('a loader batch of plain JPEG records equals decoding and transforming each alone', async () => {
  const dir = join(work, 'plain');
  const writer = new LmdbWriter(dir);
  const jpegs = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => jpeg(12, 10, seed)));
  jpegs.forEach((j, i) => {
    writer.put(Buffer.from(`0000000${i}_x`), encodedDatumBytes(j, i));
  });
  writer.finish();
  const meanFile = join(work, 'mean-12x10.binaryproto');
  const mean = Float32Array.from(noise(12, 10, 11));
  writeFileSync(meanFile, meanBlobBytes(mean, 3, 10, 12));
  const loader = await DataLoader.open({
    source: { type: 'Data', uri: dir },
    batchSize: 6,
    phase: 'TRAIN',
    transform: { cropSize: 7, mirror: true, meanFile, scale: 0.25 },
    shuffle: false,
    seed: 5,
    threads: 1,
  });
  const batch = await loader.next();
  await loader.close();
  // The loader's draws: three per image from an Rng seeded with the seed, after the epoch seed and
  // the part seed it takes first.
  const rng = new Rng(5);
  rng.nextUint32();
  rng.nextUint32();
  const s: TransformSettings = {
    phase: 'TRAIN',
    scale: 0.25,
    mirror: true,
    cropSize: 7,
    meanImage: { channels: 3, height: 10, width: 12, data: mean },
  };
  const expected = new Float32Array(6 * 3 * 7 * 7);
  for (const [i, j] of jpegs.entries()) {
    const draws = [rng.nextUint32(), rng.nextUint32(), rng.nextUint32()];
    const image = await decodeImage(j);
    transformInto(image.pixels, 3, 10, 12, s, placement(10, 12, s, draws), expected, i * 3 * 49);
  }
  assert.deepEqual(batch.shape, [6, 3, 7, 7]);
  assert.deepEqual(batch.data, expected);
  assert.deepEqual([...batch.labels], [0, 1, 2, 3, 4, 5]);
});
