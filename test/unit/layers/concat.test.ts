import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildLayer, checkGradients, seeded, tf } from './support.js';

function concat(inputs: Record<string, number[]>, param: object) {
  return buildLayer(inputs, {
    name: 'cat',
    type: 'Concat',
    bottom: Object.keys(inputs),
    top: ['y'],
    concatParam: param,
  });
}

describe('Concat', () => {
  it('joins along channels by default and along any axis, concat_dim included', () => {
    const a = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
    const b = tf.tensor4d([5, 6, 7, 8, 9, 10, 11, 12], [1, 2, 2, 2]);
    const y = concat({ a: [1, 1, 2, 2], b: [1, 2, 2, 2] }, {}).forward([a, b], 0)[0]!;
    assert.deepEqual(y.shape, [1, 3, 2, 2]);
    assert.deepEqual([...y.dataSync()], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const rows = concat({ a: [2, 2], b: [1, 2] }, { concatDim: 0 }).forward(
      [
        tf.tensor2d([
          [1, 2],
          [3, 4],
        ]),
        tf.tensor2d([[5, 6]]),
      ],
      0,
    )[0]!;
    assert.deepEqual([...rows.dataSync()], [1, 2, 3, 4, 5, 6]);
    const last = concat({ a: [2, 1], b: [2, 2] }, { axis: -1 }).forward(
      [
        tf.tensor2d([[1], [2]]),
        tf.tensor2d([
          [3, 4],
          [5, 6],
        ]),
      ],
      0,
    )[0]!;
    assert.deepEqual([...last.dataSync()], [1, 3, 4, 2, 5, 6]);
  });

  it('passes the gradient check (step 1e-2, tolerance 1e-3)', () => {
    const layer = concat({ a: [2, 1, 3], b: [2, 2, 3] }, {});
    assert.equal(
      checkGradients(layer, [seeded([2, 1, 3], 1), seeded([2, 2, 3], 2)], { step: 1e-2, tolerance: 1e-3 }),
      18,
    );
  });
});
