// SigmoidCrossEntropyLoss: the cross-entropy of sigmoid(x) against targets t in [0, 1], summed over the
// positions whose target is not loss_param.ignore_label and divided by the normalizer. Written as Caffe
// writes it, stable for any x: -Σ [x (t - [x ≥ 0]) - log(1 + exp(x - 2x [x ≥ 0]))]. Its gradient is
// sigmoid(x) - t. (Caffe refuses to backpropagate to the targets; here they come from data layers.)
import * as tf from '@tensorflow/tfjs-core';

import { NormalizationMode } from '../../proto/messages.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { countOf } from './params.js';
import { registerLayer } from './registry.js';
import { lossNormalizer, normalizationMode } from './softmax-with-loss.js';

export class SigmoidCrossEntropyLossLayer extends Layer {
  readonly normalization: number;
  readonly ignoreLabel: number | undefined;
  private readonly outer: number;
  private readonly count: number;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(2), tops: exactly(1) });
    // Unlike SoftmaxWithLoss, with neither field set it normalizes by the batch size
    // (sigmoid_cross_entropy_loss_layer.cpp, LayerSetUp).
    this.normalization = normalizationMode(spec.param.lossParam, this.where, NormalizationMode.BATCH_SIZE);
    this.ignoreLabel = spec.param.lossParam?.ignoreLabel;
    const scores = this.bottomShape(0);
    this.outer = scores[0] ?? 1;
    this.count = countOf(scores);
  }

  forward([scores, targets]: tf.Tensor[]): tf.Tensor[] {
    return [
      tf.tidy(() => {
        const x = tf.reshape(scores!, [this.count]);
        const t = tf.reshape(targets!, [this.count]);
        const positive = tf.cast(tf.greaterEqual(x, 0), 'float32');
        const terms = tf.sub(
          tf.mul(x, tf.sub(t, positive)),
          tf.log1p(tf.exp(tf.sub(x, tf.mul(tf.mul(x, 2), positive)))),
        );
        const { mask, validCount } = this.counted(t);
        const kept = mask ? tf.mul(terms, mask) : terms;
        return tf.div(tf.neg(tf.sum(kept)), this.normalizer(validCount));
      }),
    ];
  }

  /** Which positions count (undefined: all) and how many, from the targets and ignore_label. */
  private counted(t: tf.Tensor): { mask: tf.Tensor | undefined; validCount: number } {
    if (this.ignoreLabel === undefined) return { mask: undefined, validCount: this.count };
    const values = t.dataSync();
    const mask = new Float32Array(this.count);
    let validCount = 0;
    for (let i = 0; i < this.count; i++) {
      // Caffe compat: the target is truncated to an int before it is compared with ignore_label.
      if (Math.trunc(values[i]!) !== this.ignoreLabel) {
        mask[i] = 1;
        validCount++;
      }
    }
    return { mask: tf.tensor1d(mask), validCount };
  }

  /** Caffe's get_normalizer, clamped to at least 1. */
  normalizer(validCount: number): number {
    return lossNormalizer(this.normalization, { total: this.count, valid: validCount, outer: this.outer });
  }
}

registerLayer('SigmoidCrossEntropyLoss', (spec) => new SigmoidCrossEntropyLossLayer(spec));
