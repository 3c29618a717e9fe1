// The loss layers added for issue 14: EuclideanLoss, HingeLoss, ContrastiveLoss, MultinomialLogisticLoss,
// InfogainLoss. Values against the formulas written here in float64, and the gradient check on the bottoms
// that get gradients. Parity with real Caffe is in test/unit/parity/real-caffe-layers.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { encodeBlobProto } from '../../../trainer/proto/binary.js';
import { buildLayer, checkGradients, distinct, seeded, tf } from './support.js';

const step = { step: 1e-2, tolerance: 2e-3 };
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

describe('loss layers', () => {
  it('EuclideanLoss is Σ (a - b)² / 2N and both bottoms get gradients', () => {
    const layer = buildLayer(
      { a: [2, 3], b: [2, 3] },
      { name: 'l', type: 'EuclideanLoss', bottom: ['a', 'b'], top: ['loss'] },
    );
    assert.deepEqual(layer.lossWeights, [1]);
    const [a, b] = [seeded([2, 3], 1), seeded([2, 3], 2)];
    const expected = [...a.dataSync()].reduce((s, v, i) => s + (v - b.dataSync()[i]!) ** 2, 0) / 4;
    close(layer.forward([a, b], 0)[0]!.dataSync()[0]!, expected, 'loss');
    assert.equal(checkGradients(layer, [a, b], step), 12);
  });

  for (const [norm, power] of [
    [1, 1],
    [2, 2],
  ] as const) {
    it(`HingeLoss L${norm} sums max(0, 1 ± score)^${power} over N and passes the gradient check`, () => {
      const layer = buildLayer(
        { x: [2, 3], y: [2] },
        { name: 'l', type: 'HingeLoss', bottom: ['x', 'y'], top: ['loss'], hingeLossParam: { norm } },
      );
      const x = tf.add(distinct([2, 3], 3, 0.3), 0.05);
      const labels = [2, 0];
      let expected = 0;
      [...x.dataSync()].forEach((v, i) => {
        const t = Math.floor(i / 3) < 2 && i % 3 === labels[Math.floor(i / 3)] ? -1 : 1;
        expected += Math.max(0, 1 + t * v) ** power;
      });
      close(layer.forward([x, tf.tensor1d(labels)], 0)[0]!.dataSync()[0]!, expected / 2, 'loss');
      assert.equal(checkGradients(layer, [x, tf.tensor1d(labels)], { ...step, bottoms: [0] }), 6);
    });
  }

  for (const legacyVersion of [false, true]) {
    it(`ContrastiveLoss (legacy_version ${legacyVersion}) pulls similar pairs and pushes dissimilar ones`, () => {
      const layer = buildLayer(
        { a: [4, 2, 1, 1], b: [4, 2, 1, 1], s: [4] },
        {
          name: 'l',
          type: 'ContrastiveLoss',
          bottom: ['a', 'b', 's'],
          top: ['loss'],
          contrastiveLossParam: { margin: 1.2, legacyVersion },
        },
      );
      const [a, b] = [seeded([4, 2, 1, 1], 4), seeded([4, 2, 1, 1], 5)];
      const same = [1, 0, 0, 1];
      let expected = 0;
      for (let i = 0; i < 4; i++) {
        const d2 =
          (a.dataSync()[2 * i]! - b.dataSync()[2 * i]!) ** 2 +
          (a.dataSync()[2 * i + 1]! - b.dataSync()[2 * i + 1]!) ** 2;
        expected += same[i]
          ? d2
          : legacyVersion
            ? Math.max(1.2 - d2, 0)
            : Math.max(1.2 - Math.sqrt(d2), 0) ** 2;
      }
      close(layer.forward([a, b, tf.tensor1d(same)], 0)[0]!.dataSync()[0]!, expected / 8, 'loss');
      // Caffe's gradient adds 1e-4 to the distance in the dissimilar divisor; the check's tolerance covers it.
      assert.equal(
        checkGradients(layer, [a, b, tf.tensor1d(same)], { step: 1e-2, tolerance: 5e-3, bottoms: [0, 1] }),
        16,
      );
    });
  }

  it('MultinomialLogisticLoss is -Σ log p[label] / N, clamped at 1e-20', () => {
    const layer = buildLayer(
      { p: [2, 3], y: [2] },
      { name: 'l', type: 'MultinomialLogisticLoss', bottom: ['p', 'y'], top: ['loss'] },
    );
    const p = tf.tensor2d([0.2, 0.5, 0.3, 0, 0.6, 0.4], [2, 3]);
    close(
      layer.forward([p, tf.tensor1d([1, 0])], 0)[0]!.dataSync()[0]!,
      -(Math.log(0.5) + Math.log(1e-20)) / 2,
      'loss',
    );
    assert.equal(
      checkGradients(layer, [seeded([2, 3], 6, 0.2, 1), tf.tensor1d([1, 2])], { ...step, bottoms: [0] }),
      6,
    );
  });

  it('InfogainLoss weighs the log-probabilities of a softmax by H[label], H from bottom 2 or a file', () => {
    const h = [1, 0.5, 0, 0, 1, 0.25, 0.1, 0, 2];
    const x = seeded([2, 3], 7, -2, 2);
    const labels = tf.tensor1d([2, 0]);
    const probabilities = tf.softmax(x).arraySync() as number[][];
    const expected =
      -[2, 0].reduce(
        (s, label, i) =>
          s + [0, 1, 2].reduce((t, l) => t + h[label * 3 + l]! * Math.log(probabilities[i]![l]!), 0),
        0,
      ) / 2;
    const fromBottom = buildLayer(
      { x: [2, 3], y: [2], h: [3, 3] },
      { name: 'l', type: 'InfogainLoss', bottom: ['x', 'y', 'h'], top: ['loss'] },
    );
    const matrix = tf.tensor2d(h, [3, 3]);
    close(fromBottom.forward([x, labels, matrix], 0)[0]!.dataSync()[0]!, expected, 'loss (H as bottom)');
    assert.equal(checkGradients(fromBottom, [x, labels, matrix], { ...step, bottoms: [0] }), 6);

    const dir = mkdtempSync(join(tmpdir(), 'infogain-'));
    try {
      const file = join(dir, 'H.binaryproto');
      writeFileSync(file, encodeBlobProto({ shape: { dim: [1, 1, 3, 3] }, data: h }));
      const fromFile = buildLayer(
        { x: [2, 3], y: [2] },
        {
          name: 'l',
          type: 'InfogainLoss',
          bottom: ['x', 'y'],
          top: ['loss'],
          infogainLossParam: { source: file },
        },
      );
      close(fromFile.forward([x, labels], 0)[0]!.dataSync()[0]!, expected, 'loss (H from file)');
      assert.throws(
        () =>
          buildLayer(
            { x: [2, 3], y: [2] },
            {
              name: 'l',
              type: 'InfogainLoss',
              bottom: ['x', 'y'],
              top: ['loss'],
              infogainLossParam: { source: join(dir, 'missing') },
            },
          ),
        /infogain_loss_param.source .*missing: cannot read the H matrix/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
