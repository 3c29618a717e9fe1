// BNLL (binomial normal log likelihood): y = log(1 + exp(x)), computed as x + log(1 + exp(-x)) for x > 0;
// dy/dx = sigmoid(x).
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { ElementwiseLayer } from './elementwise.js';
import { registerLayer } from './registry.js';

export class BNLLLayer extends ElementwiseLayer {
  constructor(spec: LayerSpec) {
    super(spec);
  }

  protected apply(x: tf.Tensor): tf.Tensor {
    // relu(x) + log1p(exp(-|x|)) equals log(1 + exp(x)) without overflow on either side.
    return tf.add(tf.relu(x), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
  }
}

registerLayer('BNLL', (spec) => new BNLLLayer(spec));
