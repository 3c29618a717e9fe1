// The small nets for tests and the demo: LeNet on 28x28 grey images and MiniCaffeNet on 64x64 images
// cropped to 56x56, 10 classes, with CaffeNet's layer kinds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildNetSpec, learnableTotals } from '../../../trainer/net/spec/index.js';
import { Phase, parseNetPrototxt, parseSolverPrototxt } from '../../../trainer/proto/index.js';
import { readModel } from '../proto/support.js';

describe('MiniCaffeNet', () => {
  const net = parseNetPrototxt(readModel('mini_caffenet/train_val.prototxt'), 'train_val');
  const train = buildNetSpec(net, { phase: Phase.TRAIN, dataShape: { channels: 3, height: 64, width: 64 } });

  it("has CaffeNet's layer kinds, grouped convolutions included", () => {
    const types = new Set(train.layers.map((l) => l.type));
    for (const type of [
      'Data',
      'Convolution',
      'ReLU',
      'Pooling',
      'LRN',
      'InnerProduct',
      'Dropout',
      'SoftmaxWithLoss',
    ]) {
      assert.ok(types.has(type), type);
    }
    const groups = net.layer?.filter((l) => l.convolutionParam?.group === 2).map((l) => l.name);
    assert.deepEqual(groups, ['conv2', 'conv4', 'conv5']);
  });

  it('takes 56x56 crops and ends in 10 classes', () => {
    assert.deepEqual(train.blobShapes.get('data'), [32, 3, 56, 56]);
    assert.deepEqual(train.blobShapes.get('pool5'), [32, 32, 3, 3]);
    assert.deepEqual(train.blobShapes.get('fc8'), [32, 10]);
    const test = buildNetSpec(net, { phase: Phase.TEST });
    assert.ok(
      test.layers.map((l) => l.type).includes('Accuracy'),
      `TEST layers: ${test.layers.map((l) => l.type).join(', ')}`,
    );
  });

  it('is small: under 100,000 parameters', () => {
    const { blobs, parameters } = learnableTotals(train);
    assert.equal(blobs, 16);
    assert.ok(parameters < 100_000, `${parameters} parameters`);
  });

  it('its deploy net has the same parameters', () => {
    const deploy = buildNetSpec(parseNetPrototxt(readModel('mini_caffenet/deploy.prototxt'), 'deploy'), {
      phase: Phase.TEST,
    });
    assert.deepEqual(learnableTotals(deploy), learnableTotals(train));
  });

  it('its solver names its net and runs on the CPU', () => {
    const solver = parseSolverPrototxt(readModel('mini_caffenet/solver.prototxt'), 'solver');
    assert.equal(solver.net, 'trainer/models/mini_caffenet/train_val.prototxt');
    assert.equal(solver.solverMode, 0);
  });
});

describe('LeNet', () => {
  it('turns 28x28 grey images into 10 scores with 431,080 parameters', () => {
    const net = parseNetPrototxt(readModel('lenet/train_val.prototxt'), 'lenet');
    const spec = buildNetSpec(net, { phase: Phase.TEST, dataShape: { channels: 1, height: 28, width: 28 } });
    assert.deepEqual(spec.blobShapes.get('data'), [100, 1, 28, 28]);
    assert.deepEqual(spec.blobShapes.get('pool2'), [100, 50, 4, 4]);
    assert.deepEqual(spec.blobShapes.get('ip2'), [100, 10]);
    assert.deepEqual(learnableTotals(spec), { blobs: 8, parameters: 431_080 });
  });
});
