import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildLayer, tf } from './support.js';

function accuracy(shape: number[], param: object, tops = ['accuracy']) {
  return buildLayer(
    { scores: shape, labels: [shape[0]!] },
    { name: 'acc', type: 'Accuracy', bottom: ['scores', 'labels'], top: tops, accuracyParam: param },
  );
}

// Four samples, four classes.
//   0: label 0, scores (0.5, 0.5, 0.1, 0.0): tie with class 1 → wrong at top-1 (ties count against), right at top-2
//   1: label 2, scores (0.1, 0.2, 0.9, 0.3): best → right at top-1
//   2: label 3, scores (0.4, 0.3, 0.2, 0.35): second → wrong at top-1, right at top-2
//   3: label 1, scores (0.3, 0.1, 0.3, 0.2): three higher → right only at top-4
const scores = tf.tensor2d([
  [0.5, 0.5, 0.1, 0.0],
  [0.1, 0.2, 0.9, 0.3],
  [0.4, 0.3, 0.2, 0.35],
  [0.3, 0.1, 0.3, 0.2],
]);
const labels = tf.tensor1d([0, 2, 3, 1]);

describe('Accuracy', () => {
  for (const [topK, expected] of [
    [1, 1 / 4],
    [2, 3 / 4],
    [3, 3 / 4],
    [4, 4 / 4],
  ] as const) {
    it(`counts ties against the sample: top_k ${topK} gives ${expected}`, () => {
      const [value] = accuracy([4, 4], { topK }).forward([scores, labels], 1);
      assert.equal(value!.dataSync()[0], Math.fround(expected));
    });
  }

  it('skips ignore_label positions, and gives 0 when nothing is counted', () => {
    const [value] = accuracy([4, 4], { ignoreLabel: 0 }).forward([scores, labels], 1);
    assert.equal(value!.dataSync()[0], Math.fround(1 / 3));
    const [none] = accuracy([4, 4], { ignoreLabel: 7 }).forward([scores, tf.tensor1d([7, 7, 7, 7])], 1);
    assert.equal(none!.dataSync()[0], 0);
  });

  it('gives per-class accuracy as an optional second top', () => {
    const [, perClass] = accuracy([4, 4], { topK: 2 }, ['accuracy', 'per_class']).forward(
      [scores, labels],
      1,
    );
    assert.deepEqual([...perClass!.dataSync()], [1, 0, 1, 1]);
  });

  it('rejects top_k above the number of classes', () => {
    assert.throws(
      () => accuracy([4, 4], { topK: 5 }),
      /accuracy_param.top_k: expected at most .*4.*, received 5/,
    );
  });
});
