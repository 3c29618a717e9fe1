import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildLayer, tf } from './support.js';

const TRAIN = 0;
const TEST = 1;

function dropout(ratio: number | undefined, seed = 1) {
  return buildLayer(
    { x: [100, 100] },
    { name: 'drop', type: 'Dropout', bottom: ['x'], top: ['y'], dropoutParam: { dropoutRatio: ratio } },
    { seed },
  );
}

describe('Dropout', () => {
  it('keeps each element with probability 1 - p and scales kept ones by 1 / (1 - p) at TRAIN', () => {
    const y = dropout(0.3)
      .forward([tf.ones([100, 100])], TRAIN)[0]!
      .dataSync();
    const kept = y.filter((v) => v !== 0);
    assert.ok(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6));
    assert.ok(Math.abs(kept.length / 10000 - 0.7) < 0.023, `kept ${kept.length / 10000}`); // 5 × sqrt(.21 / 10000)
  });

  it('is the identity at TEST, with p = 0.5 by default', () => {
    const layer = dropout(undefined);
    const x = tf.ones([100, 100]);
    assert.deepEqual([...new Set(layer.forward([x], TEST)[0]!.dataSync())], [1]);
    const kept = layer
      .forward([x], TRAIN)[0]!
      .dataSync()
      .filter((v) => v !== 0);
    assert.deepEqual([...new Set(kept)], [2]);
  });

  it('draws the mask from the seeded Rng: same seed, same mask; the gradient uses the same mask', () => {
    const x = tf.ones([100, 100]);
    const a = dropout(0.5, 7).forward([x], TRAIN)[0]!.dataSync();
    assert.deepEqual(dropout(0.5, 7).forward([x], TRAIN)[0]!.dataSync(), a);
    assert.notDeepEqual(dropout(0.5, 8).forward([x], TRAIN)[0]!.dataSync(), a);
    const layer = dropout(0.5, 7);
    const grad = tf
      .grad((t: tf.Tensor) => tf.sum(layer.forward([t], TRAIN)[0]!))(x)
      .dataSync();
    assert.deepEqual(grad, a);
  });

  it('rejects a ratio outside [0, 1)', () => {
    assert.throws(() => dropout(1), /dropout_param.dropout_ratio: expected a number in \[0, 1\), received 1/);
  });
});
