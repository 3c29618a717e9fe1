// SPP and Im2col: shapes, values worked by hand, and the gradient check. Parity with real Caffe is in
// test/unit/parity/real-caffe-layers.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildLayer, checkGradients, distinct, layerSpecFor, seeded, tf } from './support.js';

describe('SPP', () => {
  const spp = (shape: number[], sppParam: object) =>
    buildLayer({ x: shape }, { name: 's', type: 'SPP', bottom: ['x'], top: ['y'], sppParam });

  it('concatenates 1, 4, 16 ... bins per channel, each the max (or mean) of its part of the image', () => {
    const x = tf.range(0, 16).reshape([1, 1, 4, 4]);
    const y = spp([1, 1, 4, 4], { pyramidHeight: 2 }).forward([x], 0)[0]!;
    assert.deepEqual(y.shape, [1, 1 + 4]);
    assert.deepEqual([...y.dataSync()], [15, 5, 7, 13, 15]);
    const mean = spp([1, 1, 4, 4], { pyramidHeight: 2, pool: 1 }).forward([x], 0)[0]!;
    assert.deepEqual([...mean.dataSync()], [7.5, 2.5, 4.5, 10.5, 12.5]);
    assert.deepEqual(
      spp([2, 3, 5, 4], { pyramidHeight: 1 }).forward([seeded([2, 3, 5, 4], 1)], 0)[0]!.shape,
      [2, 3, 1, 1],
    );
  });

  it('refuses a pyramid too tall for the image, as Caffe’s Pooling would', () => {
    assert.throws(
      () =>
        layerSpecFor(
          { x: [1, 1, 5, 5] },
          { name: 's', type: 'SPP', bottom: ['x'], top: ['y'], sppParam: { pyramidHeight: 3 } },
        ),
      /spp_param.pyramid_height: level 2 needs a pad of 2x2 for a 2x2 kernel/,
    );
  });

  for (const pool of [0, 1]) {
    it(`pool ${pool} passes the gradient check`, () => {
      const layer = spp([1, 2, 6, 6], { pyramidHeight: 3, pool });
      assert.equal(
        checkGradients(layer, [distinct([1, 2, 6, 6], 2, 0.05)], { step: 1e-2, tolerance: 2e-3 }),
        72,
      );
    });
  }
});

describe('Im2col', () => {
  const im2col = (shape: number[], convolutionParam: object) =>
    buildLayer({ x: shape }, { name: 'i', type: 'Im2col', bottom: ['x'], top: ['y'], convolutionParam });

  it('lays each window out as a column, tap (i, j) of channel c at c·kh·kw + i·kw + j', () => {
    const x = tf.range(0, 18).reshape([1, 2, 3, 3]);
    const y = im2col([1, 2, 3, 3], { kernelSize: [2] }).forward([x], 0)[0]!;
    assert.deepEqual(y.shape, [1, 8, 2, 2]);
    const columns = y.arraySync() as number[][][][];
    // Window at (0, 0): channel 0 taps 0, 1, 3, 4; channel 1 taps 9, 10, 12, 13.
    assert.deepEqual(
      columns[0]!.map((plane) => plane[0]![0]),
      [0, 1, 3, 4, 9, 10, 12, 13],
    );
    assert.deepEqual(
      columns[0]!.map((plane) => plane[1]![1]),
      [4, 5, 7, 8, 13, 14, 16, 17],
    );
  });

  it('passes the gradient check with pad, stride and dilation', () => {
    const layer = im2col([1, 2, 5, 5], { kernelSize: [2], pad: [1], stride: [2], dilation: [2] });
    assert.equal(checkGradients(layer, [seeded([1, 2, 5, 5], 3)], { step: 1e-2, tolerance: 1e-3 }), 50);
  });
});
