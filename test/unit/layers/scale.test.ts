import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { assertClose, buildLayer, checkGradients, seeded, tf } from './support.js';

function scale(inputs: Record<string, number[]>, param: object) {
  return buildLayer(inputs, {
    name: 'scale',
    type: 'Scale',
    bottom: Object.keys(inputs),
    top: ['y'],
    scaleParam: param,
  });
}

describe('Scale', () => {
  it('multiplies each channel by its learned factor (filler default 1) and adds the bias', () => {
    const layer = scale({ x: [2, 3, 2, 2] }, { biasTerm: true });
    assert.deepEqual(
      layer.blobs.map((b) => b.shape),
      [[3], [3]],
    );
    assert.deepEqual([...layer.blobs[0]!.dataSync()], [1, 1, 1]);
    layer.blobs[0]!.assign(tf.tensor1d([1, 2, 3]));
    layer.blobs[1]!.assign(tf.tensor1d([10, 20, 30]));
    const y = layer.forward([tf.ones([2, 3, 2, 2])], 0)[0]!.dataSync();
    assert.deepEqual([y[0], y[4], y[8], y[12], y[20]], [11, 22, 33, 11, 33]);
  });

  it('covers num_axes axes from axis (here H and W), or a scalar with num_axes 0', () => {
    const spatial = scale({ x: [1, 2, 2, 3] }, { axis: 2, numAxes: 2 });
    assert.deepEqual(spatial.blobs[0]!.shape, [2, 3]);
    const scalar = scale({ x: [1, 2, 2, 3] }, { numAxes: 0, filler: { type: 'constant', value: 4 } });
    assert.deepEqual(scalar.blobs[0]!.shape, []);
    const x = seeded([1, 2, 2, 3], 1);
    assertClose(
      scalar.forward([x], 0)[0]!.dataSync(),
      Array.from(x.dataSync(), (v) => 4 * v),
      1e-6,
    );
  });

  it('takes the factor from a second bottom', () => {
    const layer = scale({ x: [2, 3, 2], s: [2, 3] }, { axis: 0 });
    assert.equal(layer.blobs.length, 0);
    const s = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const y = layer.forward([tf.ones([2, 3, 2]), s], 0)[0]!;
    assert.deepEqual([...y.dataSync()], [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
  });

  it('passes the gradient check for the input, the factor and the bias (step 1e-2, tolerance 1e-3)', () => {
    const layer = scale({ x: [2, 3, 2] }, { biasTerm: true, filler: { type: 'uniform', min: -1, max: 1 } });
    assert.equal(checkGradients(layer, [seeded([2, 3, 2], 2)], { step: 1e-2, tolerance: 1e-3 }), 12 + 3 + 3);
    const twoBottoms = scale({ x: [2, 3, 2], s: [3] }, {});
    assert.equal(
      checkGradients(twoBottoms, [seeded([2, 3, 2], 3), seeded([3], 4)], { step: 1e-2, tolerance: 1e-3 }),
      15,
    );
  });
});
