// Deconvolution: output size, a hand-worked transposed convolution, and the gradient check. Parity with real
// Caffe (pad, stride, groups, dilation) is in test/unit/parity/real-caffe-layers.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildLayer, checkGradients, layerSpecFor, seeded, tf } from './support.js';

function deconvolution(input: number[], convolutionParam: object) {
  return buildLayer(
    { x: input },
    {
      name: 'd',
      type: 'Deconvolution',
      bottom: ['x'],
      top: ['y'],
      convolutionParam: { weightFiller: { type: 'uniform', min: -1, max: 1 }, ...convolutionParam },
    },
  );
}

describe('Deconvolution', () => {
  it('has out = stride·(in − 1) + extent − 2·pad and weights (channels, num_output/group, kh, kw)', () => {
    const spec = layerSpecFor(
      { x: [2, 4, 5, 6] },
      {
        name: 'd',
        type: 'Deconvolution',
        bottom: ['x'],
        top: ['y'],
        convolutionParam: { numOutput: 6, group: 2, kernelSize: [3], stride: [2], pad: [1], dilation: [2] },
      },
    );
    assert.deepEqual(spec.topShapes[0], [2, 6, 2 * 4 + 5 - 2, 2 * 5 + 5 - 2]);
    assert.deepEqual(spec.paramShapes, [[4, 3, 3, 3], [6]]);
  });

  it('spreads each input pixel over the kernel, stride apart (one channel, worked by hand)', () => {
    const layer = deconvolution([1, 1, 1, 2], {
      numOutput: 1,
      kernelSize: [2],
      stride: [2],
      biasTerm: false,
    });
    layer.blobs[0]!.assign(tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]));
    const y = layer.forward([tf.tensor4d([1, 10], [1, 1, 1, 2])], 0)[0]!;
    assert.deepEqual(y.shape, [1, 1, 2, 4]);
    assert.deepEqual([...y.dataSync()], [1, 2, 10, 20, 3, 4, 30, 40]);
  });

  for (const param of [
    { numOutput: 2, kernelSize: [3], stride: [2], pad: [1] },
    { numOutput: 4, group: 2, kernelH: 2, kernelW: 3, strideW: 3, padW: 3, dilation: [2], biasTerm: false },
  ]) {
    it(`${JSON.stringify(param)} passes the gradient check`, () => {
      const layer = deconvolution([1, 2, 3, 3], param);
      const compared = checkGradients(layer, [seeded([1, 2, 3, 3], 3)], { step: 1e-2, tolerance: 2e-3 });
      assert.equal(compared, 18 + layer.blobs.reduce((n, b) => n + b.size, 0));
    });
  }
});
