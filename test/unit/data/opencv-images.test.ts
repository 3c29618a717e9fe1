// Images as Caffe's tools make them through OpenCV: our JPEG decoding and encoding against Debian's
// cv2.imdecode and cv2.imencode (the same libjpeg-turbo: equal pixels, equal bytes), and our resize
// against cv2.resize with INTER_LINEAR (convert_imageset's and the ImageData layer's resize), value
// for value as Debian's x86 build computes it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { decodeInterleaved, encodeJpeg, type InterleavedImage } from '../../../trainer/data/images.js';
import { nativeCodec } from '../../../trainer/data/native-codec.js';
import { resizeImage } from '../../../trainer/data/resize.js';
import { Rng } from '../../../trainer/rng.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-opencv-images-'));
after(() => rmSync(work, { recursive: true, force: true }));

const SCRIPT = `
import base64, json, sys
import cv2, numpy as np
job = json.load(open(sys.argv[1]))
out = {}
for name, item in job.items():
    img = np.frombuffer(base64.b64decode(item['pixels']), np.uint8).reshape(item['height'], item['width'], item['channels'])
    ok, jpeg = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, item['quality']])
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    resized = {}
    for w, h in item['sizes']:
        resized['%dx%d' % (w, h)] = base64.b64encode(cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR).tobytes()).decode()
    out[name] = {'jpeg': base64.b64encode(jpeg.tobytes()).decode(), 'decoded': base64.b64encode(decoded.tobytes()).decode(), 'resized': resized}
print(json.dumps(out))
`;

/** A photo-like image: smooth gradients, edges and some noise, so every JPEG and resize path is used. */
function photo(width: number, height: number, seed: number, channels = 3): InterleavedImage {
  const rng = new Rng(seed);
  const pixels = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const edge = (x * (c + 1) + y * 2) % 97 < 40 ? 60 : 0;
        const v = 40 + ((x * (3 + c)) % 160) * 0.5 + ((y * 5) % 120) * 0.5 + edge + rng.nextInt(12);
        pixels[(y * width + x) * channels + c] = Math.min(255, v);
      }
    }
  }
  return { pixels, channels, height, width };
}

function opencv(
  job: Record<string, { image: InterleavedImage; quality: number; sizes: [number, number][] }>,
) {
  const file = join(work, 'job.json');
  const payload = Object.fromEntries(
    Object.entries(job).map(([name, { image, quality, sizes }]) => [
      name,
      { ...image, pixels: Buffer.from(image.pixels).toString('base64'), quality, sizes },
    ]),
  );
  writeFileSync(file, JSON.stringify(payload));
  const run = spawnSync('/usr/bin/python3', ['-c', SCRIPT, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Record<
    string,
    { jpeg: string; decoded: string; resized: Record<string, string> }
  >;
}

const SIZES: [number, number][] = [
  [256, 256], // squash down, as prep and the tutorial's convert do
  [227, 300], // down in x, up in y
  [613, 401], // up in both
  [1, 1],
];

test('JPEG bytes equal cv2.imencode and decoded pixels equal cv2.imdecode', async (t) => {
  if (!nativeCodec) return t.skip('the native image codec is not built (npm run setup)');
  const cases = {
    photo: { image: photo(500, 375, 1), quality: 95, sizes: [] },
    odd: { image: photo(33, 17, 2), quality: 90, sizes: [] },
  };
  const cv = opencv(cases);
  for (const [name, { image, quality }] of Object.entries(cases)) {
    const ours = await encodeJpeg(image, quality);
    assert.ok(
      Buffer.from(cv[name]!.jpeg, 'base64').equals(ours),
      `${name}: JPEG bytes differ from cv2.imencode`,
    );
    const decoded = await decodeInterleaved(ours);
    assert.ok(
      Buffer.from(cv[name]!.decoded, 'base64').equals(Buffer.from(decoded.pixels)),
      `${name}: pixels differ from cv2.imdecode`,
    );
  }
});

test('the bilinear resize equals cv2.resize INTER_LINEAR, down, up and to one pixel', () => {
  const cases = {
    photo: { image: photo(500, 375, 3), quality: 95, sizes: SIZES },
    gray: { image: photo(45, 31, 4, 1), quality: 95, sizes: SIZES },
  };
  const cv = opencv(cases);
  for (const [name, { image }] of Object.entries(cases)) {
    for (const [w, h] of SIZES) {
      const theirs = Buffer.from(cv[name]!.resized[`${w}x${h}`]!, 'base64');
      const ours = resizeImage(image, w, h).pixels;
      assert.equal(ours.length, theirs.length, `${name} ${w}x${h}: size`);
      let differing = 0;
      for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) differing++;
      assert.equal(
        differing,
        0,
        `${name} ${w}x${h}: ${differing} of ${ours.length} values differ from cv2.resize`,
      );
    }
  }
});

test('crop keeps the centre of the cover-scaled image', () => {
  const image = photo(40, 20, 5);
  const cropped = resizeImage(image, 10, 10, 'crop');
  const scaled = resizeImage(image, 20, 10);
  assert.deepEqual([cropped.width, cropped.height], [10, 10]);
  for (let y = 0; y < 10; y++) {
    const row = cropped.pixels.subarray(y * 30, y * 30 + 30);
    assert.deepEqual(row, scaled.pixels.subarray((y * 20 + 5) * 3, (y * 20 + 15) * 3), `row ${y}`);
  }
});
