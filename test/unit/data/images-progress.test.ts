import assert from 'node:assert/strict';
import { test } from 'node:test';

import sharp from 'sharp';

import { decodeImage, describeSource, toPlanar } from '../../../trainer/data/images.js';
import { Progress } from '../../../trainer/data/progress.js';

test('interleaved pixels become planar, channel order kept', () => {
  // two pixels: (1,2,3) and (4,5,6)
  const image = { pixels: Uint8Array.of(1, 2, 3, 4, 5, 6), channels: 3, height: 1, width: 2 };
  assert.deepEqual([...toPlanar(image)], [1, 4, 2, 5, 3, 6]);
});

test('odd sources are named, and all decode to 3-channel BGR', async () => {
  const rgb = Buffer.alloc(8 * 4 * 3);
  for (let p = 0; p < 32; p++) rgb.set([250, 10, 10], 3 * p);
  const image = () => sharp(rgb, { raw: { width: 8, height: 4, channels: 3 } });
  const cases = [
    { bytes: await image().toColourspace('cmyk').jpeg().toBuffer(), kind: 'CMYK JPEG' },
    { bytes: await image().toColourspace('b-w').jpeg().toBuffer(), kind: 'grayscale JPEG' },
    { bytes: await image().png().toBuffer(), kind: 'PNG data' },
    { bytes: await image().jpeg().toBuffer(), kind: undefined },
  ];
  for (const c of cases) {
    assert.equal(describeSource(c.bytes), c.kind);
    const decoded = await decodeImage(c.bytes);
    assert.deepEqual([decoded.channels, decoded.height, decoded.width], [3, 4, 8], `${c.kind}`);
  }
  const red = await decodeImage(cases[3]!.bytes);
  assert.ok(red.pixels[2 * 32]! > 200 && red.pixels[0]! < 60, 'red must land in the third (R) plane');
});

test('progress lines are JSON with the counts, at most one per interval, and one at the end', () => {
  const written: string[] = [];
  let now = 0;
  const stream = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  const progress = new Progress(
    { phase: 'prep', split: 'train', shard: 3, total: 10 },
    { intervalSeconds: 5, stream, now: () => now },
  );
  for (let i = 0; i < 10; i++) {
    now += 1000;
    progress.tick(i === 4);
  }
  progress.finish();
  assert.deepEqual(
    written.map((line) => JSON.parse(line).progress.done),
    [1, 6, 10],
  );
  assert.deepEqual(JSON.parse(written.at(-1)!), {
    progress: { phase: 'prep', split: 'train', shard: 3, done: 10, total: 10, skipped: 1 },
  });
});
