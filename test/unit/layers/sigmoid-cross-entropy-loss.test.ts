import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildLayer, checkGradients, seeded, tf } from './support.js';

function loss(shape: number[], lossParam?: object) {
  return buildLayer(
    { x: shape, t: shape },
    {
      name: 'loss',
      type: 'SigmoidCrossEntropyLoss',
      bottom: ['x', 't'],
      top: ['loss'],
      ...(lossParam ? { lossParam } : {}),
    },
  );
}

/** The cross-entropy written directly, in float64: -Σ t log σ(x) + (1 - t) log(1 - σ(x)). */
function direct(x: number[], t: number[], keep: (i: number) => boolean = () => true): number {
  let sum = 0;
  x.forEach((v, i) => {
    if (!keep(i)) return;
    const p = 1 / (1 + Math.exp(-v));
    sum -= t[i]! * Math.log(p) + (1 - t[i]!) * Math.log(1 - p);
  });
  return sum;
}

describe('SigmoidCrossEntropyLoss', () => {
  const x = [-3, -0.5, 0, 0.25, 2, 7];
  const t = [0, 1, 1, 0, 1, 0];

  it('is the cross-entropy of sigmoid(x) over the batch size by default, loss_weight 1', () => {
    const layer = loss([2, 3]);
    assert.deepEqual(layer.lossWeights, [1]);
    const [value] = layer.forward([tf.tensor2d(x, [2, 3]), tf.tensor2d(t, [2, 3])], 0);
    assert.ok(Math.abs(value!.dataSync()[0]! - direct(x, t) / 2) < 1e-5);
  });

  it('normalizes as loss_param says and skips ignore_label targets', () => {
    const bottoms = () => [tf.tensor2d(x, [2, 3]), tf.tensor2d([0, 1, -1, 0, 1, -1], [2, 3])];
    const kept = (i: number) => i !== 2 && i !== 5;
    const tt = [0, 1, -1, 0, 1, -1];
    const valid = loss([2, 3], { ignoreLabel: -1, normalization: 1 }).forward(bottoms(), 0)[0]!;
    assert.ok(Math.abs(valid.dataSync()[0]! - direct(x, tt, kept) / 4) < 1e-5);
    const full = loss([2, 3], { ignoreLabel: -1, normalization: 0 }).forward(bottoms(), 0)[0]!;
    assert.ok(Math.abs(full.dataSync()[0]! - direct(x, tt, kept) / 6) < 1e-5);
    const none = loss([2, 3], { normalization: 3 }).forward(
      [tf.tensor2d(x, [2, 3]), tf.tensor2d(t, [2, 3])],
      0,
    )[0]!;
    assert.ok(Math.abs(none.dataSync()[0]! - direct(x, t)) < 1e-5);
  });

  it('stays finite for large scores of either sign', () => {
    const [value] = loss([1, 2]).forward([tf.tensor2d([-200, 200], [1, 2]), tf.tensor2d([1, 0], [1, 2])], 0);
    assert.ok(Math.abs(value!.dataSync()[0]! - 400) < 1e-3);
  });

  it('passes the gradient check on the scores (step 1e-2, tolerance 1e-3)', () => {
    const layer = loss([2, 4]);
    const targets = tf.tensor2d([0, 1, 1, 0, 0.5, 1, 0, 0.25], [2, 4]);
    assert.equal(
      checkGradients(layer, [seeded([2, 4], 5, -3, 3), targets], {
        step: 1e-2,
        tolerance: 1e-3,
        bottoms: [0],
      }),
      8,
    );
  });
});
