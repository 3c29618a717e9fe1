// BatchNorm: y = (x - mean) / sqrt(variance + eps) per channel (axis 1), without scale or shift (a Scale
// layer follows in Caffe nets). Caffe keeps three blobs, all statistics rather than learned weights:
//   blobs[0] = running sum of batch means, blobs[1] = running sum of (unbiased) batch variances, both
//   decayed by moving_average_fraction, and blobs[2] = the one-element sum of decay factors that divides them.
// TRAIN normalises with the batch's own statistics and updates the blobs; with use_global_stats (default:
// at TEST) it normalises with blobs[0] / blobs[2] and blobs[1] / blobs[2].
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import { Phase } from '../../proto/messages.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { finiteNumber } from './params.js';
import { registerLayer } from './registry.js';

export class BatchNormLayer extends Layer {
  readonly useGlobalStats: boolean | undefined;
  readonly movingAverageFraction: number;
  readonly eps: number;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const param = spec.param.batchNormParam;
    this.useGlobalStats = param?.useGlobalStats;
    this.movingAverageFraction = finiteNumber(
      param?.movingAverageFraction,
      0.999,
      'batch_norm_param.moving_average_fraction',
      this.where,
    );
    this.eps = finiteNumber(param?.eps, 1e-5, 'batch_norm_param.eps', this.where);
    const shape = this.bottomShape(0);
    if (shape.length < 2) {
      throw new BadInputError(
        `expected a bottom with a channel axis, received shape [${shape.join(', ')}]`,
        this.where,
      );
    }
    // Caffe masks the statistics from the solver: a param spec for them must have lr_mult 0.
    (spec.param.param ?? []).forEach((p, i) => {
      if ((p.lrMult ?? 1) !== 0) {
        throw new BadInputError(
          `param[${i}].lr_mult: expected 0 for batch statistics, received ${p.lrMult ?? 1}`,
          this.where,
        );
      }
    });
    for (const index of [0, 1, 2]) {
      const blobShape = this.paramShape(index);
      this.addBlob(new Float32Array(blobShape.reduce((n, d) => n * d, 1)), blobShape, false);
    }
  }

  forward([x]: tf.Tensor[], phase: number): tf.Tensor[] {
    const useGlobalStats = this.useGlobalStats ?? phase === Phase.TEST;
    const axes = x!.shape.map((_, i) => i).filter((i) => i !== 1);
    // (C) → (1, C, 1, …) so statistics broadcast over every axis but the channel one.
    const perChannel = x!.shape.map((d, i) => (i === 1 ? d : 1));
    const [meanSum, varianceSum, factor] = this.blobs as [tf.Variable, tf.Variable, tf.Variable];
    if (useGlobalStats) {
      // A factor of 0 (statistics never gathered) gives a mean and variance of 0, as in Caffe.
      const inverse = tf.divNoNan(tf.onesLike(factor), factor);
      const mean = tf.reshape(tf.mul(meanSum, inverse), perChannel);
      const variance = tf.reshape(tf.mul(varianceSum, inverse), perChannel);
      return [tf.div(tf.sub(x!, mean), tf.sqrt(tf.add(variance, this.eps)))];
    }
    const { mean, variance } = tf.moments(x!, axes, true);
    this.updateStatistics(mean, variance, x!.size / x!.shape[1]!);
    return [tf.div(tf.sub(x!, mean), tf.sqrt(tf.add(variance, this.eps)))];
  }

  /** Caffe's running sums: decay, then add this batch (its variance corrected by m / (m - 1)). */
  private updateStatistics(mean: tf.Tensor, variance: tf.Tensor, perChannelCount: number): void {
    const [meanSum, varianceSum, factor] = this.blobs as [tf.Variable, tf.Variable, tf.Variable];
    const decay = this.movingAverageFraction;
    const correction = perChannelCount > 1 ? perChannelCount / (perChannelCount - 1) : 1;
    tf.tidy(() => {
      factor.assign(tf.add(tf.mul(factor, decay), 1));
      meanSum.assign(tf.add(tf.mul(meanSum, decay), tf.reshape(mean, meanSum.shape)));
      varianceSum.assign(
        tf.add(tf.mul(varianceSum, decay), tf.mul(tf.reshape(variance, varianceSum.shape), correction)),
      );
    });
  }
}

registerLayer('BatchNorm', (spec) => new BatchNormLayer(spec));
