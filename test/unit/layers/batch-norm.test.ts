import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import {
  assertClose,
  buildFromEditedSpec,
  buildLayer,
  checkGradients,
  layerSpecFor,
  seeded,
  tf,
} from './support.js';

const TRAIN = 0;
const TEST = 1;

function batchNorm(shape: number[], param: object = {}, phase = TRAIN) {
  return buildLayer(
    { x: shape },
    { name: 'bn', type: 'BatchNorm', bottom: ['x'], top: ['y'], batchNormParam: param },
    { phase },
  );
}

/** Per-channel mean and biased variance of an (N, C, H, W) array. */
function channelStats(x: ArrayLike<number>, [n, c, h, w]: number[]) {
  const m = n! * h! * w!;
  const means: number[] = [];
  const variances: number[] = [];
  for (let ch = 0; ch < c!; ch++) {
    const values: number[] = [];
    for (let b = 0; b < n!; b++)
      for (let i = 0; i < h! * w!; i++) values.push(x[(b * c! + ch) * h! * w! + i]!);
    const mean = values.reduce((s, v) => s + v, 0) / m;
    means.push(mean);
    variances.push(values.reduce((s, v) => s + (v - mean) ** 2, 0) / m);
  }
  return { means, variances, m };
}

describe('BatchNorm', () => {
  const shape = [2, 3, 2, 2];

  it("keeps Caffe's three statistics blobs, untrainable, zero at first", () => {
    const layer = batchNorm(shape);
    assert.deepEqual(
      layer.blobs.map((b) => b.shape),
      [[3], [3], [1]],
    );
    assert.deepEqual(
      layer.blobs.map((b) => b.trainable),
      [false, false, false],
    );
    assert.deepEqual(
      layer.blobs.map((b) => [...b.dataSync()]),
      [[0, 0, 0], [0, 0, 0], [0]],
    );
  });

  it('normalises with the batch statistics at TRAIN and accumulates them as Caffe does', () => {
    const layer = batchNorm(shape, { movingAverageFraction: 0.9, eps: 1e-3 });
    const x = seeded(shape, 1, -3, 3);
    const { means, variances, m } = channelStats(x.dataSync(), shape);
    const y = layer.forward([x], TRAIN)[0]!;
    const expected = Array.from(x.dataSync(), (v, i) => {
      const ch = Math.floor(i / 4) % 3;
      return (v - means[ch]!) / Math.sqrt(variances[ch]! + 1e-3);
    });
    assertClose(y.dataSync(), expected, 1e-4, 'y');
    layer.forward([x], TRAIN);
    // Two updates: factor = 0.9·1 + 1 = 1.9; sums = 0.9·s + s = 1.9·s, the variance corrected by m / (m - 1).
    assertClose(layer.blobs[2]!.dataSync(), [1.9], 1e-6, 'factor');
    assertClose(
      layer.blobs[0]!.dataSync(),
      means.map((v) => 1.9 * v),
      1e-5,
      'mean sum',
    );
    assertClose(
      layer.blobs[1]!.dataSync(),
      variances.map((v) => (1.9 * v * m) / (m - 1)),
      1e-5,
      'variance sum',
    );
  });

  it('normalises with the stored statistics divided by the factor at TEST', () => {
    const layer = batchNorm(shape, {}, TEST);
    layer.blobs[0]!.assign(tf.tensor1d([2, 4, 6]));
    layer.blobs[1]!.assign(tf.tensor1d([8, 2, 0.5]));
    layer.blobs[2]!.assign(tf.tensor1d([2]));
    const x = tf.ones(shape);
    const y = layer.forward([x], TEST)[0]!.dataSync();
    // mean (1, 2, 3), variance (4, 1, 0.25): (1 - mean) / sqrt(variance + 1e-5).
    assertClose([y[0]!, y[4]!, y[8]!], [0, -1 / Math.sqrt(1 + 1e-5), -2 / Math.sqrt(0.25 + 1e-5)], 1e-5, 'y');
    assertClose(layer.blobs[2]!.dataSync(), [2], 0, 'factor unchanged at TEST');
  });

  it('uses global statistics at TRAIN when use_global_stats is set, and none at TEST when it is false', () => {
    const layer = batchNorm(shape, { useGlobalStats: true });
    const x = seeded(shape, 2);
    // Zero statistics with a zero factor: mean 0, variance 0, so y = x / sqrt(eps).
    assertClose(
      layer.forward([x], TRAIN)[0]!.dataSync(),
      Array.from(x.dataSync(), (v) => v / Math.sqrt(1e-5)),
      1e-4,
    );
    const batchAtTest = batchNorm(shape, { useGlobalStats: false }, TEST);
    const y = batchAtTest.forward([x], TEST)[0]!;
    assertClose(tf.mean(y, [0, 2, 3]).dataSync(), [0, 0, 0], 1e-5, 'batch-normalised means');
  });

  it('passes the gradient check through the batch statistics (step 1e-2, tolerance 1e-2)', () => {
    const layer = batchNorm([2, 2, 2, 2]);
    assert.equal(
      checkGradients(layer, [seeded([2, 2, 2, 2], 3, -2, 2)], { step: 1e-2, tolerance: 1e-2 }),
      16,
    );
  });

  it('passes the gradient check with global statistics (step 1e-2, tolerance 1e-3)', () => {
    const layer = batchNorm([2, 2, 2, 2], { useGlobalStats: true });
    layer.blobs[0]!.assign(tf.tensor1d([0.5, -1]));
    layer.blobs[1]!.assign(tf.tensor1d([2, 3]));
    layer.blobs[2]!.assign(tf.tensor1d([1]));
    assert.equal(checkGradients(layer, [seeded([2, 2, 2, 2], 3)], { step: 1e-2, tolerance: 1e-3 }), 16);
  });

  it('refuses a learning rate for its statistics', () => {
    const spec = layerSpecFor({ x: shape }, { name: 'bn', type: 'BatchNorm', bottom: ['x'], top: ['y'] });
    assert.throws(
      () => buildFromEditedSpec(spec, { param: [{ lrMult: 0 }, { lrMult: 1 }] }),
      (e: unknown) =>
        e instanceof BadInputError &&
        /param\[1\].lr_mult: expected 0 for batch statistics, received 1/.test(e.message),
    );
  });
});
