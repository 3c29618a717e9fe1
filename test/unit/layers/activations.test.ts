// ReLU, Sigmoid, TanH, Softmax: forward values against their formulas and the gradient check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { assertClose, buildLayer, checkGradients, distinct, seeded, tf } from './support.js';

function layer(type: string, shape: number[], extra: object = {}) {
  return buildLayer({ x: shape }, { name: 'a', type, bottom: ['x'], top: ['y'], ...extra });
}

describe('activations', () => {
  const x = tf.tensor1d([-2, -0.5, 0, 0.5, 2]);

  it('ReLU zeroes negatives, or scales them by negative_slope', () => {
    assert.deepEqual([...layer('ReLU', [5]).forward([x], 0)[0]!.dataSync()], [0, 0, 0, 0.5, 2]);
    assertClose(
      layer('ReLU', [5], { reluParam: { negativeSlope: 0.1 } })
        .forward([x], 0)[0]!
        .dataSync(),
      [-0.2, -0.05, 0, 0.5, 2],
      1e-6,
    );
  });

  it('Sigmoid and TanH follow their formulas', () => {
    assertClose(
      layer('Sigmoid', [5]).forward([x], 0)[0]!.dataSync(),
      [...x.dataSync()].map((v) => 1 / (1 + Math.exp(-v))),
      1e-6,
    );
    assertClose(layer('TanH', [5]).forward([x], 0)[0]!.dataSync(), [...x.dataSync()].map(Math.tanh), 1e-6);
  });

  it('Softmax normalises along softmax_param.axis', () => {
    const scores = seeded([2, 3, 2], 1, -3, 3);
    const y = layer('Softmax', [2, 3, 2]).forward([scores], 0)[0]!;
    assertClose(tf.sum(y, 1).dataSync(), [1, 1, 1, 1], 1e-6, 'sums along axis 1');
    const last = layer('Softmax', [2, 3, 2], { softmaxParam: { axis: -1 } }).forward([scores], 0)[0]!;
    assertClose(last.dataSync(), tf.softmax(scores).dataSync(), 1e-6, 'axis -1');
  });

  // Inputs spaced 0.1 apart and offset from 0 keep ReLU's kink out of every finite-difference step.
  for (const [type, extra] of [
    ['ReLU', {}],
    ['ReLU', { reluParam: { negativeSlope: 0.2 } }],
    ['Sigmoid', {}],
    ['TanH', {}],
    ['Softmax', {}],
  ] as const) {
    it(`${type} ${JSON.stringify(extra)} passes the gradient check (step 1e-2, tolerance 1e-3)`, () => {
      const input = tf.add(distinct([2, 3, 2], 4), 0.05);
      assert.equal(
        checkGradients(layer(type, [2, 3, 2], extra), [input], { step: 1e-2, tolerance: 1e-3 }),
        12,
      );
    });
  }
});
