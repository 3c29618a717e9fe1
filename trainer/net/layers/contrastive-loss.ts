// ContrastiveLoss: pairs (a, b), N × C × 1 × 1, and a similarity per pair (non-zero: similar). With
// d = ||a - b||: loss = Σ (similar ? d² : max(margin - d, 0)²) / 2N, or max(margin - d², 0) for dissimilar
// pairs with legacy_version. The gradient is Caffe's, including the 1e-4 it adds to d in the dissimilar
// divisor (so a pair at distance 0 gets no NaN); the similarity gets none.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { finiteNumber } from './params.js';
import { registerLayer } from './registry.js';

export class ContrastiveLossLayer extends Layer {
  readonly margin: number;
  readonly legacy: boolean;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(3), tops: exactly(1) });
    const param = spec.param.contrastiveLossParam ?? {};
    this.margin = finiteNumber(param.margin, 1, 'contrastive_loss_param.margin', this.where);
    this.legacy = param.legacyVersion ?? false;
  }

  forward([a, b, similarity]: tf.Tensor[]): tf.Tensor[] {
    const num = this.bottomShape(0)[0]!;
    const shape = this.bottomShape(0);
    const similar = tf.tensor2d(
      Float32Array.from(similarity!.dataSync(), (v) => (Math.trunc(v) !== 0 ? 1 : 0)),
      [num, 1],
    );
    const dissimilar = tf.sub(1, similar);
    const margin = this.margin;
    const legacy = this.legacy;
    const lossOf = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      const difference = tf.reshape(tf.sub(x, y), [num, -1]);
      const squared = tf.sum(tf.square(difference), 1, true);
      const distance = tf.sqrt(squared);
      const gap = legacy ? tf.sub(margin, squared) : tf.sub(margin, distance);
      const apart = legacy ? tf.relu(gap) : tf.square(tf.relu(gap));
      const value = tf.div(tf.sum(tf.add(tf.mul(similar, squared), tf.mul(dissimilar, apart))), 2 * num);
      // Only saved tensors outlive the forward pass: tf.grads disposes the rest before calling gradFunc.
      save([difference, distance, gap, similar, dissimilar]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [diff, dist, mdist, same, apartPairs] = saved as [
            tf.Tensor,
            tf.Tensor,
            tf.Tensor,
            tf.Tensor,
            tf.Tensor,
          ];
          const alpha = tf.div(dy, num);
          const beta = legacy ? tf.neg(alpha) : tf.neg(tf.div(tf.mul(alpha, mdist), tf.add(dist, 1e-4)));
          const pushed = tf.mul(tf.cast(tf.greater(mdist, 0), 'float32'), beta);
          const coefficient = tf.add(tf.mul(same, alpha), tf.mul(apartPairs, pushed));
          const da = tf.reshape(tf.mul(coefficient, diff), shape);
          return [da, tf.neg(da)];
        },
      };
    });
    return [lossOf(a!, tf.reshape(b!, shape))];
  }
}

registerLayer('ContrastiveLoss', (spec) => new ContrastiveLossLayer(spec));
