import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import { createLayer, registeredLayerTypes, registerLayer } from '../../../trainer/net/layers/index.js';
import { Rng } from '../../../trainer/rng.js';
import { layerSpecFor } from './support.js';

describe('layer registry', () => {
  it('registers every layer type of this room', () => {
    for (const type of [
      'Accuracy',
      'BatchNorm',
      'Concat',
      'Convolution',
      'Dropout',
      'DummyData',
      'Eltwise',
      'Flatten',
      'InnerProduct',
      'Input',
      'LRN',
      'Pooling',
      'ReLU',
      'Scale',
      'Sigmoid',
      'Silence',
      'Softmax',
      'SoftmaxWithLoss',
      'Split',
      'TanH',
      // Added for issue 14.
      'AbsVal',
      'ArgMax',
      'BNLL',
      'BatchReindex',
      'Bias',
      'Clip',
      'ContrastiveLoss',
      'Crop',
      'Deconvolution',
      'ELU',
      'Embed',
      'EuclideanLoss',
      'Exp',
      'HingeLoss',
      'InfogainLoss',
      'Log',
      'MVN',
      'MultinomialLogisticLoss',
      'PReLU',
      'Parameter',
      'Power',
      'Reduction',
      'Reshape',
      'Swish',
      'Threshold',
      'Tile',
    ]) {
      assert.ok(registeredLayerTypes().includes(type), type);
    }
  });

  it('refuses to register a type twice', () => {
    assert.throws(
      () => registerLayer('ReLU', () => undefined as never),
      /layer type "ReLU" is registered twice/,
    );
  });

  it('names the known types when a type is unknown', () => {
    const spec = {
      ...layerSpecFor({ x: [2] }, { name: 'r', type: 'ReLU', bottom: ['x'], top: ['y'] }),
      type: 'NoSuchLayer',
    };
    assert.throws(
      () => createLayer(spec, { rng: new Rng(1) }),
      (e: unknown) =>
        e instanceof BadInputError &&
        e.message ===
          `layer "r": unknown layer type "NoSuchLayer"; known types: ${registeredLayerTypes().join(', ')}`,
    );
  });

  it('checks the bottom and top counts a layer declares', () => {
    const spec = layerSpecFor({ x: [2] }, { name: 'r', type: 'ReLU', bottom: ['x'], top: ['y'] });
    assert.throws(
      () => createLayer({ ...spec, tops: ['y', 'z'] }, { rng: new Rng(1) }),
      /layer "r" \(ReLU\): expected exactly 1 top blob\(s\), received 2/,
    );
  });
});
