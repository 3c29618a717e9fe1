import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildLayer, checkGradients, layerSpecFor, seeded, tf } from './support.js';

function slice(shape: number[], tops: number, param: object) {
  return buildLayer(
    { x: shape },
    {
      name: 'cut',
      type: 'Slice',
      bottom: ['x'],
      top: Array.from({ length: tops }, (_, i) => `y${i}`),
      sliceParam: param,
    },
  );
}

describe('Slice', () => {
  it('cuts channels into equal parts by default, at slice_point, and along any axis or slice_dim', () => {
    const x = tf.tensor4d([...Array(24).keys()], [1, 6, 2, 2]);
    const equal = slice([1, 6, 2, 2], 3, {}).forward([x], 0);
    assert.deepEqual(
      equal.map((t) => t.shape),
      [
        [1, 2, 2, 2],
        [1, 2, 2, 2],
        [1, 2, 2, 2],
      ],
    );
    assert.deepEqual([...equal[1]!.dataSync()], [8, 9, 10, 11, 12, 13, 14, 15]);
    const points = slice([1, 6, 2, 2], 3, { slicePoint: [1, 4] }).forward([x], 0);
    assert.deepEqual(
      points.map((t) => t.shape[1]),
      [1, 3, 2],
    );
    assert.deepEqual([...points[2]!.dataSync()], [16, 17, 18, 19, 20, 21, 22, 23]);
    const rows = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const byDim = slice([3, 2], 2, { sliceDim: 0, slicePoint: [1] }).forward([rows], 0);
    assert.deepEqual([...byDim[0]!.dataSync()], [1, 2]);
    const last = slice([3, 2], 2, { axis: -1 }).forward([rows], 0);
    assert.deepEqual([...last[1]!.dataSync()], [2, 4, 6]);
  });

  it('refuses what Caffe refuses, naming the field', () => {
    const spec = (tops: number, param: object) => () =>
      layerSpecFor(
        { x: [1, 6, 2, 2] },
        {
          name: 'cut',
          type: 'Slice',
          bottom: ['x'],
          top: Array.from({ length: tops }, (_, i) => `y${i}`),
          sliceParam: param,
        },
      );
    assert.throws(spec(4, {}), /4 tops do not divide axis 1/);
    assert.throws(spec(3, { slicePoint: [2] }), /slice_point: expected 2 points/);
    assert.throws(spec(3, { slicePoint: [4, 2] }), /slice_point: expected increasing points/);
    assert.throws(spec(2, { slicePoint: [6] }), /slice_point: expected increasing points/);
    assert.throws(spec(2, { axis: 1, sliceDim: 1 }), /either axis or slice_dim/);
  });

  it('passes the gradient check (step 1e-2, tolerance 1e-3)', () => {
    const layer = slice([2, 5, 3], 3, { slicePoint: [1, 3] });
    assert.equal(checkGradients(layer, [seeded([2, 5, 3], 3)], { step: 1e-2, tolerance: 1e-3 }), 30);
  });
});
