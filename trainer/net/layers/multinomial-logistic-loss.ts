// MultinomialLogisticLoss: probabilities N × K (axes 1.. flattened) and one label per item;
// loss = -Σ log(max(p[label], 1e-20)) / N.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { countOf } from './params.js';
import { registerLayer } from './registry.js';

/** Caffe's kLOG_THRESHOLD: probabilities are clamped to it before the logarithm. */
export const LOG_THRESHOLD = 1e-20;

export class MultinomialLogisticLossLayer extends Layer {
  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(2), tops: exactly(1) });
  }

  forward([probabilities, labels]: tf.Tensor[]): tf.Tensor[] {
    const num = this.bottomShape(0)[0]!;
    const classes = countOf(this.bottomShape(0)) / num;
    const oneHot = new Float32Array(num * classes);
    labels!.dataSync().forEach((value, i) => {
      const label = Math.trunc(value);
      if (!(label >= 0 && label < classes)) {
        throw new BadInputError(
          `label of item ${i}: expected an integer in [0, ${classes}), received ${value}`,
          this.where,
        );
      }
      oneHot[i * classes + label] = 1;
    });
    const p = tf.reshape(probabilities!, [num, classes]);
    const picked = tf.sum(tf.mul(p, tf.tensor2d(oneHot, [num, classes])), 1);
    return [tf.div(tf.neg(tf.sum(tf.log(tf.maximum(picked, LOG_THRESHOLD)))), num)];
  }
}

registerLayer('MultinomialLogisticLoss', (spec) => new MultinomialLogisticLossLayer(spec));
