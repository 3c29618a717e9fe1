// Every kind of file Caffe's tools decode through cv::imread/cv::imdecode, against Debian's cv2 on the
// same bytes: colour, palette, RGBA, gray and 16-bit PNGs and CMYK JPEGs, read as colour, as gray and
// unchanged (Caffe's DecodeDatumToCVMatNative). Then the tools over them: convert_imageset's PNG
// records and compute_image_mean over gray PNG records.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import sharp, { type Sharp } from 'sharp';

import { computeImageMean } from '../../../trainer/data/image-mean.js';
import { decodeInterleaved, storedAsGray } from '../../../trainer/data/images.js';
import { LmdbReader } from '../../../trainer/data/lmdb-reader.js';
import { nativeCodec } from '../../../trainer/data/native-codec.js';
import { readDatum } from '../../../trainer/data/records.js';
import { resizeImage } from '../../../trainer/data/resize.js';
import { rgbPhoto } from '../../support/images.js';
import { runCaffeOk } from './prep-checks.js';

const work = mkdtempSync(join(tmpdir(), 'brewery-opencv-decoders-'));
after(() => rmSync(work, { recursive: true, force: true }));

// cv2 on each file: imdecode with IMREAD_COLOR (1), IMREAD_GRAYSCALE (0) and IMREAD_UNCHANGED (-1),
// and the per-position mean of the unchanged decodes of a list of files.
const SCRIPT = `
import base64, json, sys
import cv2, numpy as np
job = json.load(open(sys.argv[1]))
out = {'files': {}, 'means': {}}
for name, path in job['files'].items():
    data = np.fromfile(path, np.uint8)
    out['files'][name] = {}
    for flag in (1, 0, -1):
        img = cv2.imdecode(data, flag)
        out['files'][name][str(flag)] = {'shape': list(img.shape), 'depth': str(img.dtype), 'pixels': base64.b64encode(img.tobytes()).decode()}
for name, paths in job['means'].items():
    imgs = [cv2.imdecode(np.fromfile(p, np.uint8), -1).astype(np.float64) for p in paths]
    out['means'][name] = (sum(imgs) / len(imgs)).flatten().tolist()
print(json.dumps(out))
`;

interface Decoded {
  shape: number[];
  depth: string;
  pixels: string;
}
let cv: { files: Record<string, Record<string, Decoded>>; means: Record<string, number[]> };
const files: Record<string, string> = {};

before(async () => {
  const width = 37;
  const height = 29;
  const raw = { raw: { width, height, channels: 3 as const } };
  const rgb = rgbPhoto(width, height, 7);
  const make: Record<string, (s: Sharp) => Sharp> = {
    'colour.png': (s) => s.png(),
    'palette.png': (s) => s.png({ palette: true }),
    'rgba.png': (s) => s.ensureAlpha(0.5).png(),
    'gray.png': (s) => s.toColourspace('b-w').png(),
    'rgb16.png': (s) => s.toColourspace('rgb16').png(),
    'cmyk.jpg': (s) => s.toColourspace('cmyk').jpeg({ quality: 92 }),
  };
  for (const [name, encode] of Object.entries(make)) {
    files[name] = join(work, name);
    await encode(sharp(rgb, raw)).toFile(files[name]);
  }
  // Gray PNGs for the mean, and their list file, as the tutorial's convert_imageset reads them.
  mkdirSync(join(work, 'grays'));
  const grays: string[] = [];
  for (let i = 0; i < 3; i++) {
    const path = join(work, 'grays', `g${i}.png`);
    await sharp(rgbPhoto(width, height, 20 + i), raw)
      .toColourspace('b-w')
      .png()
      .toFile(path);
    grays.push(path);
  }
  writeFileSync(join(work, 'grays.txt'), grays.map((_, i) => `g${i}.png ${i}`).join('\n'));
  const jobFile = join(work, 'job.json');
  writeFileSync(jobFile, JSON.stringify({ files, means: { grays } }));
  const run = spawnSync('/usr/bin/python3', ['-c', SCRIPT, jobFile], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  assert.equal(run.status, 0, run.stderr);
  cv = JSON.parse(run.stdout) as typeof cv;
});

/** The values of ours that differ from cv2's, and by how much at most. */
function differences(ours: Uint8Array, theirs: Buffer) {
  assert.equal(ours.length, theirs.length, 'sizes differ');
  let count = 0;
  let max = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i]! - theirs[i]!);
    if (d) count++;
    max = Math.max(max, d);
  }
  return { count, max };
}

for (const name of ['colour.png', 'palette.png', 'rgba.png', 'gray.png', 'rgb16.png', 'cmyk.jpg']) {
  test(`${name} decodes as cv2.imdecode does, in colour and in gray`, async (t) => {
    if (name === 'cmyk.jpg' && !nativeCodec) {
      return t.skip('CMYK JPEGs decode as OpenCV does only through the native codec (npm run setup)');
    }
    const bytes = readFileSync(files[name]!);
    for (const color of [true, false]) {
      const theirs = cv.files[name]![color ? '1' : '0']!;
      const ours = await decodeInterleaved(bytes, { color });
      assert.deepEqual([ours.height, ours.width, ours.channels], [...theirs.shape, 1].slice(0, 3));
      const diff = differences(ours.pixels, Buffer.from(theirs.pixels, 'base64'));
      // libpng makes a 16-bit PNG gray from its 16-bit values and then drops the low byte; sharp
      // gives us 8-bit values first, so a gray value can round the other way (within one level).
      const allowed = name === 'rgb16.png' && !color ? 1 : 0;
      assert.ok(
        diff.max <= allowed,
        `${name} ${color ? 'colour' : 'gray'}: ${diff.count} values differ, by up to ${diff.max}`,
      );
    }
  });
}

test('storedAsGray says what IMREAD_UNCHANGED gives one channel for', () => {
  for (const [name, path] of Object.entries(files)) {
    const unchanged = cv.files[name]!['-1']!;
    const oneChannel = unchanged.shape.length === 2;
    assert.equal(storedAsGray(readFileSync(path)), oneChannel, name);
  }
});

test('convert_imageset --encode_type=png with a resize stores PNG records with cv2-equal pixels', async () => {
  const listFile = join(work, 'colour.txt');
  writeFileSync(listFile, 'colour.png 4\n');
  const db = join(work, 'png_lmdb');
  await runCaffeOk([
    'convert_imageset',
    '--encoded',
    '--encode_type=png',
    '--resize_width=20',
    '--resize_height=15',
    `${work}/`,
    listFile,
    db,
  ]);
  const reader = await LmdbReader.open(db);
  const records = [];
  for await (const { value } of reader.records()) records.push(readDatum(value, 'record'));
  await reader.close();
  assert.equal(records.length, 1);
  const datum = records[0]!;
  assert.equal(datum.label, 4);
  const png = datum.data!;
  assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')], 'the record is PNG-encoded');
  const direct = await decodeInterleaved(readFileSync(files['colour.png']!), { color: true });
  const expected = resizeImage(direct, 20, 15);
  const stored = await decodeInterleaved(png, { color: true });
  assert.deepEqual(differences(stored.pixels, Buffer.from(expected.pixels)), { count: 0, max: 0 });
});

test('compute_image_mean over gray PNG records keeps one channel, as Caffe decodes them', async () => {
  const db = join(work, 'gray_lmdb');
  await runCaffeOk(['convert_imageset', '--encoded', `${work}/grays/`, join(work, 'grays.txt'), db]);
  const mean = await computeImageMean(db, undefined, () => {});
  assert.equal(mean.count, 3);
  assert.deepEqual([mean.channels, mean.height, mean.width], [1, 29, 37]);
  const theirs = cv.means.grays!;
  assert.equal(mean.data.length, theirs.length);
  // compute_image_mean sums in float32 (as Caffe does): three 8-bit values sum exactly.
  for (let i = 0; i < theirs.length; i++)
    assert.ok(Math.abs(mean.data[i]! - theirs[i]!) < 1e-4, `value ${i}`);
});
