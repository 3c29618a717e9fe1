import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import type { LossParameter } from '../../../trainer/proto/messages.js';
import { assertClose, buildLayer, checkGradients, seeded, tf } from './support.js';

const FULL = 0;
const VALID = 1;
const BATCH_SIZE = 2;
const NONE = 3;
const LN3 = Math.log(3);

function softmaxLoss(scores: number[], labels: number[], loss?: LossParameter, extra: object = {}) {
  return buildLayer(
    { scores, labels },
    {
      name: 'loss',
      type: 'SoftmaxWithLoss',
      bottom: ['scores', 'labels'],
      top: ['loss'],
      lossParam: loss,
      ...extra,
    },
  );
}

/**
 * Scores (2, 3, 1, 2): four positions (n, w), three classes. Position → (logits, label, -log p[label]):
 *   (0,0): (0, 0, 0) label 0 → ln 3;  (0,1): (0, ln 3, 0) label 1 → ln 5/3;
 *   (1,0): (ln 3, 0, 0) label 2 → ln 5;  (1,1): ignored (label 255).
 * Sum over counted positions: ln 3 + ln 5/3 + ln 5 = 2 ln 5.
 */
const positions = [
  { logits: [0, 0, 0], label: 0 },
  { logits: [0, LN3, 0], label: 1 },
  { logits: [LN3, 0, 0], label: 2 },
  { logits: [1, 2, 3], label: 255 },
];
const scoresShape = [2, 3, 1, 2];
const scores = tf.tensor4d(
  [0, 1].flatMap((n) => [0, 1, 2].flatMap((c) => [0, 1].map((w) => positions[n * 2 + w]!.logits[c]!))),
  [2, 3, 1, 2],
);
const labels = tf.tensor4d(
  positions.map((p) => p.label),
  [2, 1, 1, 2],
);
const SUM = 2 * Math.log(5);

describe('SoftmaxWithLoss', () => {
  for (const [mode, name, normalizer] of [
    [FULL, 'FULL divides by all positions', 4],
    [VALID, 'VALID divides by the counted positions', 3],
    [BATCH_SIZE, 'BATCH_SIZE divides by the outer count', 2],
    [NONE, 'NONE does not divide', 1],
  ] as const) {
    it(`${name} (ignore_label 255)`, () => {
      const layer = softmaxLoss(scoresShape, [2, 1, 1, 2], { ignoreLabel: 255, normalization: mode });
      assertClose(layer.forward([scores, labels], 0)[0]!.dataSync(), [SUM / normalizer], 1e-6, name);
    });
  }

  it('defaults to VALID, and maps the deprecated normalize: false to BATCH_SIZE', () => {
    const byDefault = softmaxLoss(scoresShape, [2, 1, 1, 2], { ignoreLabel: 255 });
    assertClose(byDefault.forward([scores, labels], 0)[0]!.dataSync(), [SUM / 3], 1e-6);
    const legacy = softmaxLoss(scoresShape, [2, 1, 1, 2], { ignoreLabel: 255, normalize: false });
    assertClose(legacy.forward([scores, labels], 0)[0]!.dataSync(), [SUM / 2], 1e-6);
  });

  it('rejects a label outside the classes when it is not the ignore_label', () => {
    const layer = softmaxLoss(scoresShape, [2, 1, 1, 2]);
    assert.throws(
      () => layer.forward([scores, labels], 0),
      (e: unknown) =>
        e instanceof BadInputError &&
        /label at position 3: expected an integer in \[0, 3\), received 255/.test(e.message),
    );
  });

  it('clamps a vanishing probability at FLT_MIN as Caffe does, and still pushes its gradient', () => {
    const layer = softmaxLoss([1, 3], [1]);
    const x = tf.tensor2d([[0, 200, 0]]);
    const y = tf.tensor1d([0]);
    assertClose(layer.forward([x, y], 0)[0]!.dataSync(), [-Math.log(1.17549435e-38)], 1e-6, 'loss');
    const grad = tf.grad((s: tf.Tensor) => layer.forward([s, y], 0)[0]! as tf.Scalar)(x);
    assertClose(grad.dataSync(), [-1, 1, 0], 1e-6, 'gradient');
  });

  it('reports loss weight 1 on its loss by default and the given loss_weight otherwise', () => {
    assert.deepEqual(softmaxLoss([2, 3], [2]).lossWeights, [1]);
    assert.deepEqual(softmaxLoss([2, 3], [2], undefined, { lossWeight: [0.5] }).lossWeights, [0.5]);
  });

  it('gives the probabilities as an optional second top', () => {
    const layer = buildLayer(
      { scores: [2, 3], labels: [2] },
      { name: 'loss', type: 'SoftmaxWithLoss', bottom: ['scores', 'labels'], top: ['loss', 'prob'] },
    );
    const [, prob] = layer.forward(
      [
        tf.tensor2d([
          [0, LN3, 0],
          [0, 0, 0],
        ]),
        tf.tensor1d([1, 2]),
      ],
      0,
    );
    assertClose(prob!.dataSync(), [0.2, 0.6, 0.2, 1 / 3, 1 / 3, 1 / 3], 1e-6, 'prob');
  });

  for (const [mode, name] of [
    [FULL, 'FULL'],
    [VALID, 'VALID'],
    [BATCH_SIZE, 'BATCH_SIZE'],
    [NONE, 'NONE'],
  ] as const) {
    it(`passes the gradient check with ignore_label, ${name} (step 1e-2, tolerance 1e-3)`, () => {
      const layer = softmaxLoss([2, 4, 1, 3], [2, 3], { ignoreLabel: 1, normalization: mode });
      const spatialLabels = tf.tensor2d([
        [0, 1, 3],
        [2, 2, 1],
      ]);
      const compared = checkGradients(layer, [seeded([2, 4, 1, 3], 6, -2, 2), spatialLabels], {
        step: 1e-2,
        tolerance: 1e-3,
        bottoms: [0],
      });
      assert.equal(compared, 24);
    });
  }
});
