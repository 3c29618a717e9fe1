// ELU: y = x for x > 0, alpha (exp(x) - 1) otherwise (elu_param.alpha, default 1).
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { ElementwiseLayer } from './elementwise.js';
import { finiteNumber } from './params.js';
import { registerLayer } from './registry.js';

export class ELULayer extends ElementwiseLayer {
  readonly alpha: number;

  constructor(spec: LayerSpec) {
    super(spec);
    this.alpha = finiteNumber(spec.param.eluParam?.alpha, 1, 'elu_param.alpha', this.where);
  }

  protected apply(x: tf.Tensor): tf.Tensor {
    // relu(x) + alpha (exp(min(x, 0)) - 1): at x = 0 the gradient is alpha (min passes it to x), as Caffe's
    // (y + alpha) for x <= 0; exp never overflows.
    return tf.add(tf.relu(x), tf.mul(tf.sub(tf.exp(tf.minimum(x, 0)), 1), this.alpha));
  }
}

registerLayer('ELU', (spec) => new ELULayer(spec));
