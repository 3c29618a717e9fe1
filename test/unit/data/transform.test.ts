import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  checkMean,
  placement,
  type TransformSettings,
  transformInto,
} from '../../../trainer/data/transform.js';

// One channel, 4x4, pixel value = 10 * row + column.
const pixels = Uint8Array.from({ length: 16 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4));
const base: TransformSettings = { phase: 'TEST', scale: 1, mirror: false, cropSize: 0 };

function run(settings: TransformSettings, draws: number[] = [0, 0, 0]): number[] {
  const p = placement(4, 4, settings, draws);
  const out = new Float32Array(p.outHeight * p.outWidth);
  transformInto(pixels, 1, 4, 4, settings, p, out, 0);
  return [...out];
}

test('TEST crops the centre: (4 - 2) / 2 = offset 1 on both axes', () => {
  assert.deepEqual(run({ ...base, cropSize: 2 }), [11, 12, 21, 22]);
});

test('TRAIN takes its offsets from the draws modulo H - crop + 1', () => {
  // draws: mirror 0, row 5 % 3 = 2, column 7 % 3 = 1
  assert.deepEqual(run({ ...base, phase: 'TRAIN', cropSize: 2 }, [0, 5, 7]), [21, 22, 31, 32]);
});

test('mirror on an odd draw flips the output columns', () => {
  assert.deepEqual(run({ ...base, phase: 'TRAIN', cropSize: 2, mirror: true }, [1, 0, 0]), [1, 0, 11, 10]);
  assert.deepEqual(run({ ...base, phase: 'TRAIN', cropSize: 2, mirror: true }, [2, 0, 0]), [0, 1, 10, 11]);
});

test('the mean is subtracted before scaling', () => {
  assert.deepEqual(run({ ...base, cropSize: 2, meanValues: [10], scale: 0.5 }), [0.5, 1, 5.5, 6]);
});

test('a mean image is cropped with the same offsets as the data', () => {
  const mean = Float32Array.from({ length: 16 }, (_, i) => i);
  const out = run({ ...base, cropSize: 2, meanImage: { channels: 1, height: 4, width: 4, data: mean } });
  // pixel (1,1) = 11, mean at (1,1) = 5 -> 6; (1,2) = 12 - 6; (2,1) = 21 - 9; (2,2) = 22 - 10
  assert.deepEqual(out, [6, 6, 12, 12]);
});

test('mean checks name the mismatch', () => {
  const mean = { channels: 3, height: 256, width: 256, data: new Float32Array(3 * 256 * 256) };
  assert.throws(
    () => checkMean({ ...base, meanImage: mean }, 3, 64, 64),
    /mean_file is 3x256x256 but the data is 3x64x64/,
  );
  assert.throws(
    () => checkMean({ ...base, meanValues: [1, 2] }, 3, 4, 4),
    /expected 1 mean_value or one per channel \(3\), received 2/,
  );
  assert.throws(
    () => checkMean({ ...base, meanImage: mean, meanValues: [1] }, 3, 256, 256),
    /mean_file and mean_value/,
  );
});

test('a crop larger than the image is refused', () => {
  assert.throws(
    () => placement(4, 4, { ...base, cropSize: 5 }, [0, 0, 0]),
    /crop_size 5 is larger than the 4x4 image/,
  );
});
