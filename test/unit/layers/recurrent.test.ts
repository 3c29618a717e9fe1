// RNN, LSTM and LSTMUnit: blob shapes in Caffe's order, one step worked by hand, cont resetting the state,
// and the gradient check. Parity with real Caffe is in test/unit/parity/real-caffe-layers.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { assertClose, buildLayer, checkGradients, seeded, tf } from './support.js';

const fillers = {
  weightFiller: { type: 'uniform', min: -0.5, max: 0.5 },
  biasFiller: { type: 'uniform', min: -0.5, max: 0.5 },
};

function recurrent(type: 'RNN' | 'LSTM', withStatic = false) {
  return buildLayer(withStatic ? { x: [3, 2, 2], cont: [3, 2], s: [2, 3] } : { x: [3, 2, 2], cont: [3, 2] }, {
    name: 'r',
    type,
    bottom: withStatic ? ['x', 'cont', 's'] : ['x', 'cont'],
    top: ['y'],
    recurrentParam: { numOutput: 2, ...fillers },
  });
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

describe('LSTMUnit', () => {
  it('computes c = f·c_prev + i·g and h = o·tanh(c), forgetting c_prev where cont is 0', () => {
    const layer = buildLayer(
      { c: [1, 2, 1], g: [1, 2, 4], k: [1, 2] },
      { name: 'u', type: 'LSTMUnit', bottom: ['c', 'g', 'k'], top: ['c2', 'h'] },
    );
    const gates = [0.1, 0.2, 0.3, 0.4, -0.5, 0.6, -0.7, 0.8];
    const [c, h] = layer.forward(
      [tf.tensor3d([2, 3], [1, 2, 1]), tf.tensor3d(gates, [1, 2, 4]), tf.tensor2d([1, 0], [1, 2])],
      0,
    );
    const c0 = sigmoid(0.2) * 2 + sigmoid(0.1) * Math.tanh(0.4);
    const c1 = sigmoid(-0.5) * Math.tanh(0.8);
    assertClose(c!.dataSync(), [c0, c1], 1e-6, 'c');
    assertClose(h!.dataSync(), [sigmoid(0.3) * Math.tanh(c0), sigmoid(-0.7) * Math.tanh(c1)], 1e-6, 'h');
    const checked = checkGradients(
      layer,
      [seeded([1, 2, 1], 1), seeded([1, 2, 4], 2, -2, 2), tf.tensor2d([1, 0], [1, 2])],
      {
        step: 1e-2,
        tolerance: 2e-3,
        bottoms: [0, 1],
      },
    );
    assert.equal(checked, 2 + 8);
  });
});

describe('RNN and LSTM', () => {
  it('hold their blobs in Caffe’s order and shapes', () => {
    assert.deepEqual(
      recurrent('RNN').blobs.map((b) => b.shape),
      [[2, 2], [2], [2, 2], [2, 2], [2]],
    );
    assert.deepEqual(
      recurrent('LSTM', true).blobs.map((b) => b.shape),
      [[8, 2], [8], [8, 3], [8, 2]],
    );
  });

  it('restart from a zero state where cont is 0', () => {
    const layer = recurrent('LSTM');
    const step = seeded([1, 2, 2], 3);
    const x = tf.concat([step, seeded([1, 2, 2], 4), step], 0);
    const y = layer.forward([x, tf.tensor2d([0, 0, 1, 1, 0, 1], [3, 2])], 0)[0]!.arraySync() as number[][][];
    // Item 0 restarts at step 2 on the same input as step 0: the same output; item 1 carries on: different.
    assertClose(y[2]![0]!, y[0]![0]!, 1e-6, 'restarted item');
    assert.ok(Math.abs(y[2]![1]![0]! - y[0]![1]![0]!) > 1e-4, 'continuing item');
  });

  for (const type of ['RNN', 'LSTM'] as const) {
    for (const withStatic of [false, true]) {
      it(`${type}${withStatic ? ' with a static input' : ''} passes the gradient check`, () => {
        const layer = recurrent(type, withStatic);
        const bottoms = [seeded([3, 2, 2], 5), tf.tensor2d([0, 0, 1, 0, 1, 1], [3, 2])];
        if (withStatic) bottoms.push(seeded([2, 3], 6));
        const checked = checkGradients(layer, bottoms, {
          step: 1e-2,
          tolerance: 2e-3,
          bottoms: withStatic ? [0, 2] : [0],
        });
        const params = layer.blobs.reduce((n, b) => n + b.size, 0);
        assert.equal(checked, 12 + (withStatic ? 6 : 0) + params);
      });
    }
  }

  it('refuses expose_hidden, naming the field', () => {
    assert.throws(
      () =>
        buildLayer(
          { x: [3, 2, 2], cont: [3, 2] },
          {
            name: 'r',
            type: 'LSTM',
            bottom: ['x', 'cont'],
            top: ['y'],
            recurrentParam: { numOutput: 2, exposeHidden: true },
          },
        ),
      /recurrent_param.expose_hidden: true is not supported/,
    );
  });
});
