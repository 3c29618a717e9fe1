// Resize, crops and oversampling of float images, on hand-worked cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  centreCrop,
  cropInto,
  floatImage,
  oversamplePlacements,
  resizeBilinear,
} from '../../../trainer/classify/image.js';

describe('resizeBilinear', () => {
  it('upsizes a row with pixel centres aligned and edges clamped, as OpenCV INTER_LINEAR', () => {
    // Source positions (d + 0.5) * 2/4 - 0.5 = -0.25, 0.25, 0.75, 1.25: clamped, 1/4, 3/4, clamped.
    const out = resizeBilinear(floatImage([0, 10], 1, 1, 2), 1, 4);
    assert.deepEqual(Array.from(out.data), [0, 2.5, 7.5, 10]);
  });

  it('halves a 4x4 image into the means of its 2x2 blocks, channel by channel', () => {
    const values = Array.from({ length: 32 }, (_, i) => i);
    const out = resizeBilinear(floatImage(values, 2, 4, 4), 2, 2);
    assert.deepEqual([out.channels, out.height, out.width], [2, 2, 2]);
    const block = (c: number, y: number, x: number) => {
      const at = (yy: number, xx: number) => values[c * 16 + yy * 4 + xx]!;
      return (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
    };
    const expected = [0, 1].flatMap((c) => [0, 1].flatMap((y) => [0, 1].map((x) => block(c, y, x))));
    assert.deepEqual(Array.from(out.data), expected);
  });

  it('interpolates rows and columns independently (a 2x2 to 3x3 case worked by hand)', () => {
    // Positions (d + 0.5) * 2/3 - 0.5 = -1/6 (clamped to 0), 0.5, 7/6 (clamped to 1).
    const out = resizeBilinear(floatImage([0, 6, 12, 18], 1, 2, 2), 3, 3);
    const expected = [0, 3, 6, 6, 9, 12, 12, 15, 18];
    out.data.forEach((v, i) => {
      assert.ok(Math.abs(v - expected[i]!) < 1e-5, `pixel ${i}: ${v} vs ${expected[i]}`);
    });
  });

  it('returns a copy for the same size', () => {
    const image = floatImage([1, 2, 3, 4], 1, 2, 2);
    const out = resizeBilinear(image, 2, 2);
    assert.deepEqual(Array.from(out.data), [1, 2, 3, 4]);
    assert.notEqual(out.data, image.data);
  });
});

describe('crops', () => {
  it('places the ten oversampled crops as Caffe does: corners, centre, then the five mirrored', () => {
    const placements = oversamplePlacements(256, 256, 227, 227);
    const five = [
      [0, 0],
      [0, 29],
      [29, 0],
      [29, 29],
      [14, 14],
    ];
    assert.deepEqual(placements, [
      ...five.map(([top, left]) => ({ top, left, mirror: false })),
      ...five.map(([top, left]) => ({ top, left, mirror: true })),
    ]);
  });

  it('rounds the centre crop offset down for an odd margin', () => {
    // 5x4 image, 2x2 crop: offsets floor(3/2) = 1 and floor(2/2) = 1.
    const image = floatImage(
      Array.from({ length: 20 }, (_, i) => i),
      1,
      5,
      4,
    );
    assert.deepEqual(Array.from(centreCrop(image, 2, 2).data), [5, 6, 9, 10]);
  });

  it('writes a mirrored crop flipped left to right at the offset given', () => {
    const image = floatImage([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 2, 2, 3);
    const out = new Float32Array(1 + 2 * 2 * 2);
    cropInto(image, { top: 0, left: 1, mirror: true }, 2, 2, out, 1);
    assert.deepEqual(Array.from(out), [0, 3, 2, 6, 5, 9, 8, 12, 11]);
  });

  it('refuses a crop that does not fit', () => {
    const image = floatImage([1, 2, 3, 4], 1, 2, 2);
    assert.throws(
      () => cropInto(image, { top: 1, left: 0, mirror: false }, 2, 2, new Float32Array(4), 0),
      /does not fit in the 2x2 image/,
    );
  });
});
