// `caffe classify` resizes like OpenCV's cv2.resize(INTER_LINEAR), the resize convert_imageset and
// cpp_classification use: checked against cv2 itself on float images, up and down, square or not.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';

import { floatImage, resizeBilinear } from '../../../trainer/classify/image.js';
import { Rng } from '../../../trainer/rng.js';
import {
  floatBytes,
  needsCv2,
  randomValues,
  readFloats,
  relativeMaxDifference,
  withReference,
} from './support.js';

// Both sides compute in float32 with the same weights; what is left is rounding.
const TOLERANCE = 1e-6;

const CASES: [number, number, number, number][] = [
  [13, 11, 8, 8],
  [5, 9, 8, 8],
  [7, 6, 20, 17],
  [256, 256, 227, 227],
];

/** HWC (OpenCV's layout) to CHW (ours) and back. */
function toPlanar(hwc: Float32Array, height: number, width: number, channels: number): Float32Array {
  const out = new Float32Array(hwc.length);
  for (let i = 0; i < height * width; i++) {
    for (let c = 0; c < channels; c++) out[c * height * width + i] = hwc[i * channels + c]!;
  }
  return out;
}

describe('resize parity with cv2.resize', () => {
  for (const [height, width, outHeight, outWidth] of CASES) {
    it(`matches INTER_LINEAR from ${height}x${width} to ${outHeight}x${outWidth}`, async (t) => {
      if (!needsCv2(t)) return;
      const channels = 3;
      const hwc = randomValues(height * width * channels, new Rng(height * 1000 + width), 0, 255);
      const ours = resizeBilinear(
        floatImage(toPlanar(hwc, height, width, channels), channels, height, width),
        outHeight,
        outWidth,
      );
      const theirs = await withReference(
        'resize',
        async (dir) => {
          await writeFile(path.join(dir, 'in.f32'), floatBytes(hwc));
          return {
            file: path.join(dir, 'in.f32'),
            height,
            width,
            channels,
            outHeight,
            outWidth,
            out: path.join(dir, 'out.f32'),
          };
        },
        async (answer) => readFloats((answer as { file: string }).file),
      );
      const difference = relativeMaxDifference(ours.data, toPlanar(theirs, outHeight, outWidth, channels));
      t.diagnostic(`relative max difference ${difference.toExponential(2)}`);
      assert.ok(difference <= TOLERANCE, `relative max difference ${difference}`);
    });
  }
});
