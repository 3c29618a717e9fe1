// The image paths must agree with each other: the native codec with sharp (the fallback), the
// transform from interleaved pixels with the one from planar pixels, and a loader batch with
// decoding and transforming each record alone.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import sharp from 'sharp';

import {
  addInterleavedInto,
  decodeImage,
  decodeInterleaved,
  describeSource,
  encodeJpeg,
  jpegFrame,
  toPlanar,
} from '../../../trainer/data/images.js';
import { LmdbWriter } from '../../../trainer/data/lmdb-writer.js';
import { DataLoader } from '../../../trainer/data/loader.js';
import { nativeCodec } from '../../../trainer/data/native-codec.js';
import { encodedDatumBytes, meanBlobBytes } from '../../../trainer/data/records.js';
import {
  placement,
  type TransformSettings,
  transformInterleavedInto,
  transformInto,
} from '../../../trainer/data/transform.js';
import { Rng } from '../../../trainer/rng.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-codec-'));
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

test('the native codec is built (npm run setup) unless turned off', () => {
  if (process.env.BREWERY_CODEC_ADDON === 'none') return;
  assert.ok(nativeCodec, 'the codec addon is missing: run npm run setup');
  assert.ok(nativeCodec.libjpegTurboVersion >= 2000000, `libjpeg-turbo ${nativeCodec.libjpegTurboVersion}`);
});

test('jpegFrame reads size and components; odd sources are named', async () => {
  const raw = { raw: { width: 20, height: 12, channels: 3 as const } };
  const colour = await jpeg(20, 12, 1);
  const gray = await sharp(noise(20, 12, 2), raw)
    .toColourspace('b-w')
    .jpeg()
    .toBuffer();
  const cmyk = await sharp(noise(20, 12, 3), raw)
    .toColourspace('cmyk')
    .jpeg()
    .toBuffer();
  const png = await sharp(noise(20, 12, 5), raw)
    .png()
    .toBuffer();
  assert.deepEqual(jpegFrame(colour), { width: 20, height: 12, components: 3 });
  assert.equal(jpegFrame(gray)?.components, 1);
  assert.equal(jpegFrame(cmyk)?.components, 4);
  assert.equal(jpegFrame(png), undefined);
  assert.deepEqual([colour, gray, cmyk, png].map(describeSource), [
    undefined,
    'grayscale JPEG',
    'CMYK JPEG',
    'PNG data',
  ]);
  for (const bytes of [colour, gray, cmyk, png]) {
    const image = await decodeInterleaved(bytes);
    assert.deepEqual([image.channels, image.height, image.width], [3, 12, 20], describeSource(bytes));
  }
});

test('the native codec decodes as sharp does (both libjpeg-turbo, islow), on and off the thread', async () => {
  for (const [w, h, seed] of [
    [24, 16, 1],
    [33, 17, 2],
    [256, 256, 3],
  ] as const) {
    const bytes = await jpeg(w, h, seed);
    const rgb = await sharp(bytes).raw().toBuffer();
    const bgr = Buffer.from(rgb);
    for (let p = 0; p < bgr.length; p += 3) [bgr[p], bgr[p + 2]] = [rgb[p + 2]!, rgb[p]!];
    const onThread = await decodeInterleaved(bytes);
    const offThread = await decodeInterleaved(bytes, {
      offThread: true,
      into: new Uint8Array(w * h * 3 + 5),
    });
    assert.deepEqual(Buffer.from(onThread.pixels), bgr, `${w}x${h}`);
    assert.deepEqual(Buffer.from(offThread.pixels), bgr, `${w}x${h} off the thread, into a larger buffer`);
    const gray = await decodeInterleaved(bytes, { color: false });
    assert.deepEqual([gray.channels, gray.pixels.length], [1, w * h]);
  }
});

test('a truncated JPEG keeps what could be read; noise is refused with a reason', async () => {
  const bytes = await jpeg(64, 64, 4);
  const truncated = bytes.subarray(0, Math.floor(bytes.length * 0.6));
  const image = await decodeInterleaved(truncated);
  assert.deepEqual([image.channels, image.height, image.width], [3, 64, 64]);
  if (nativeCodec) {
    const out = new Uint8Array(64 * 64 * 3);
    assert.ok(nativeCodec.decode(truncated, out, false) > 0, 'libjpeg warns about the missing end');
    assert.throws(
      () => nativeCodec!.decode(bytes, new Uint8Array(10), false),
      /image is 64x64x3, not the 10 bytes/,
    );
    assert.throws(
      () => nativeCodec!.decode(bytes, new Uint8Array(64 * 64 * 3 + 1), false),
      /not the 12289 bytes/,
    );
    assert.throws(() => nativeCodec!.encode(new Uint8Array(10), 64, 64, 3, 95), /pixels fill width x height/);
  }
  await assert.rejects(decodeInterleaved(Buffer.from('not an image at all')), /unsupported image format/);
});

test('an encoded image decodes back close to its pixels; planar keeps the channel order', async () => {
  const width = 48;
  const height = 32;
  // A smooth image: JPEG keeps it within a few levels.
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) pixels.set([x * 4, y * 6, 128], (y * width + x) * 3);
  const image = { pixels, channels: 3, height, width };
  const back = await decodeInterleaved(await encodeJpeg(image, 95, { offThread: true }));
  let worst = 0;
  for (let i = 0; i < pixels.length; i++) worst = Math.max(worst, Math.abs(back.pixels[i]! - pixels[i]!));
  assert.ok(worst <= 8, `a smooth q95 image came back with errors up to ${worst}`);
  const planar = toPlanar(image);
  assert.deepEqual([planar[0], planar[width * height], planar[2 * width * height]], [0, 0, 128]);
  const sums = new Float64Array(3 * width * height);
  addInterleavedInto(sums, image);
  addInterleavedInto(sums, image);
  assert.deepEqual(
    sums,
    Float64Array.from(planar, (v) => 2 * v),
  );
});

test('the transform from interleaved BGR (and gray) equals the one from planar', async () => {
  const [height, width] = [7, 9];
  const png = await sharp(noise(width, height, 7), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  for (const color of [true, false]) {
    const hwc = await decodeInterleaved(png, { color });
    const planar = (await decodeImage(png, { color })).pixels;
    const c = hwc.channels;
    const meanImage = { channels: c, height, width, data: Float32Array.from(noise(width, height, 8, c)) };
    const settings: TransformSettings[] = [
      { phase: 'TRAIN', scale: 0.5, mirror: true, cropSize: 5, meanImage },
      { phase: 'TRAIN', scale: 1, mirror: true, cropSize: 4, meanValues: [104, 117, 123].slice(0, c) },
      { phase: 'TEST', scale: 2, mirror: false, cropSize: 0, meanValues: [100] },
    ];
    for (const s of settings) {
      for (const draws of [
        [0, 1, 3],
        [1, 2, 4],
      ]) {
        const p = placement(height, width, s, draws);
        const size = c * p.outHeight * p.outWidth;
        const [a, b] = [new Float32Array(size + 2), new Float32Array(size + 2)];
        transformInto(planar, c, height, width, s, p, a, 1);
        transformInterleavedInto(hwc.pixels, c, height, width, s, p, b, 1);
        assert.deepEqual(b, a);
      }
    }
  }
});

test('a loader batch of JPEG records equals decoding and transforming each alone', async () => {
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
