// The element-wise layers added for issue 14 (AbsVal, BNLL, Clip, ELU, Exp, Log, Power, Swish, Threshold,
// PReLU): values against their formulas written here in float64, bad parameters, and the gradient check.
// Parity with real Caffe is in test/unit/parity/real-caffe-layers.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { assertClose, buildLayer, checkGradients, distinct, seeded, tf } from './support.js';

function layer(type: string, shape: number[], extra: object = {}) {
  return buildLayer({ x: shape }, { name: 'n', type, bottom: ['x'], top: ['y'], ...extra });
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

// [type, parameters, formula, input range]: inputs stay away from kinks (distinct values spaced 0.1, offset).
const cases: [string, object, (v: number) => number, [number, number]][] = [
  ['AbsVal', {}, Math.abs, [-1, 1]],
  ['BNLL', {}, (v) => Math.log1p(Math.exp(v)), [-4, 4]],
  ['Clip', { clipParam: { min: -0.33, max: 0.42 } }, (v) => Math.min(0.42, Math.max(-0.33, v)), [-1, 1]],
  ['ELU', { eluParam: { alpha: 0.7 } }, (v) => (v > 0 ? v : 0.7 * (Math.exp(v) - 1)), [-1, 1]],
  ['Exp', {}, Math.exp, [-1, 1]],
  ['Exp', { expParam: { base: 2, scale: 0.5, shift: 1 } }, (v) => 2 ** (1 + 0.5 * v), [-1, 1]],
  ['Log', {}, Math.log, [0.2, 2]],
  ['Log', { logParam: { base: 10, scale: 2, shift: 3 } }, (v) => Math.log10(3 + 2 * v), [-1, 1]],
  ['Power', { powerParam: { power: 3, scale: -1.5, shift: 0.5 } }, (v) => (0.5 - 1.5 * v) ** 3, [-1, 1]],
  ['Power', { powerParam: { power: 0.5, shift: 2 } }, (v) => Math.sqrt(2 + v), [-1, 1]],
  ['Swish', { swishParam: { beta: 1.5 } }, (v) => v * sigmoid(1.5 * v), [-3, 3]],
  ['PReLU', {}, (v) => (v > 0 ? v : 0.25 * v), [-1, 1]],
];

describe('element-wise layers', () => {
  for (const [type, extra, formula, [min, max]] of cases) {
    it(`${type} ${JSON.stringify(extra)} follows its formula and passes the gradient check`, () => {
      const n = layer(type, [2, 3, 2], extra);
      const x = seeded([2, 3, 2], 3, min, max);
      assertClose(n.forward([x], 0)[0]!.dataSync(), [...x.dataSync()].map(formula), 1e-5, type);
      const spaced = tf.add(tf.mul(distinct([2, 3, 2], 4), (max - min) / 1.3), (min + max) / 2 + 0.013);
      assert.equal(checkGradients(n, [spaced], { step: 1e-3, tolerance: 2e-3 }), 12 + n.blobs.length * 3);
    });
  }

  it('Threshold gives 1 above the threshold and 0 at or below it, with no gradient', () => {
    const n = layer('Threshold', [5], { thresholdParam: { threshold: 0.5 } });
    const x = tf.tensor1d([-1, 0.5, 0.50001, 2, 0]);
    assert.deepEqual([...n.forward([x], 0)[0]!.dataSync()], [0, 0, 1, 1, 0]);
    const [dx] = tf.grads((v: tf.Tensor) => tf.sum(n.forward([v], 0)[0]!))([x]);
    assert.deepEqual([...dx!.dataSync()], [0, 0, 0, 0, 0]);
  });

  it('PReLU learns one slope per channel, or one shared slope, from prelu_param.filler', () => {
    const perChannel = layer('PReLU', [2, 3, 2], {
      preluParam: { filler: { type: 'constant', value: 0.1 } },
    });
    assert.deepEqual(perChannel.blobs[0]!.shape, [3]);
    const shared = layer('PReLU', [2, 3, 2], { preluParam: { channelShared: true } });
    assert.deepEqual(shared.blobs[0]!.shape, []);
    assert.deepEqual([...shared.blobs[0]!.dataSync()], [0.25]);
    assert.equal(
      checkGradients(perChannel, [tf.add(distinct([2, 3, 2], 5), 0.013)], { step: 1e-3, tolerance: 2e-3 }),
      12 + 3,
    );
  });

  it('refuses parameters Caffe refuses, naming the field', () => {
    assert.throws(
      () => layer('Clip', [2], { clipParam: { min: 0 } }),
      /clip_param: expected both min and max/,
    );
    assert.throws(() => layer('Clip', [2], { clipParam: { min: 1, max: 0 } }), /expected min <= max/);
    assert.throws(() => layer('Exp', [2], { expParam: { base: -2 } }), /exp_param.base: expected -1/);
    assert.throws(() => layer('Log', [2], { logParam: { base: 0 } }), /log_param.base/);
    assert.throws(() => layer('PReLU', [4], {}), /expected at least 2 axes/);
  });
});
