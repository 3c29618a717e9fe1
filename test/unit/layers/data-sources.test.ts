// Input and DummyData: layers with no bottoms that produce their tops themselves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import { createLayer } from '../../../trainer/net/layers/index.js';
import type { InputLayer } from '../../../trainer/net/layers/input.js';
import { buildNetSpec } from '../../../trainer/net/spec/index.js';
import type { LayerParameter } from '../../../trainer/proto/messages.js';
import { Rng } from '../../../trainer/rng.js';
import { tf } from './support.js';

function onlyLayer(layer: LayerParameter, seed = 1) {
  const spec = buildNetSpec({ name: 'n', layer: [layer] }, { phase: 0 }).layers[0]!;
  return createLayer(spec, { rng: new Rng(seed) });
}

describe('Input', () => {
  const param = {
    name: 'data',
    type: 'Input',
    top: ['data', 'label'],
    inputParam: { shape: [{ dim: [2, 3] }, { dim: [2] }] },
  };

  it('returns the fed tensors, or zeros of its shapes before anything is fed', () => {
    const layer = onlyLayer(param) as InputLayer;
    assert.deepEqual(
      layer.forward([], 0).map((t) => [t.shape, [...t.dataSync()]]),
      [
        [
          [2, 3],
          [0, 0, 0, 0, 0, 0],
        ],
        [[2], [0, 0]],
      ],
    );
    layer.feed([tf.ones([2, 3]), tf.tensor1d([4, 5])]);
    assert.deepEqual([...layer.forward([], 0)[1]!.dataSync()], [4, 5]);
  });

  it('refuses a fed tensor of the wrong shape, naming the top', () => {
    const layer = onlyLayer(param) as InputLayer;
    assert.throws(
      () => layer.feed([tf.ones([3, 3]), tf.tensor1d([4, 5])]),
      (e: unknown) =>
        e instanceof BadInputError && /top "data": expected shape 2x3, received 3x3/.test(e.message),
    );
  });
});

describe('DummyData', () => {
  it('fills constant tops once and redraws random ones at every forward', () => {
    const layer = onlyLayer({
      name: 'dummy',
      type: 'DummyData',
      top: ['a', 'b'],
      dummyDataParam: {
        shape: [{ dim: [2, 2] }, { dim: [3] }],
        dataFiller: [
          { type: 'constant', value: 7 },
          { type: 'gaussian', std: 1 },
        ],
      },
    });
    const [a1, b1] = layer.forward([], 0);
    const [a2, b2] = layer.forward([], 0);
    assert.deepEqual([...a1!.dataSync()], [7, 7, 7, 7]);
    assert.deepEqual(a2!.dataSync(), a1!.dataSync());
    assert.deepEqual(b1!.shape, [3]);
    assert.notDeepEqual(b2!.dataSync(), b1!.dataSync());
  });

  it('gives zeros without a filler, from the legacy num/channels/height/width', () => {
    const layer = onlyLayer({
      name: 'dummy',
      type: 'DummyData',
      top: ['a'],
      dummyDataParam: { num: [1], channels: [2], height: [1], width: [2] },
    });
    const [a] = layer.forward([], 0);
    assert.deepEqual(a!.shape, [1, 2, 1, 2]);
    assert.deepEqual([...a!.dataSync()], [0, 0, 0, 0]);
  });
});
