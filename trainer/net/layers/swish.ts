// Swish: y = x · sigmoid(beta · x) (swish_param.beta, default 1).
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { ElementwiseLayer } from './elementwise.js';
import { finiteNumber } from './params.js';
import { registerLayer } from './registry.js';

export class SwishLayer extends ElementwiseLayer {
  readonly beta: number;

  constructor(spec: LayerSpec) {
    super(spec);
    this.beta = finiteNumber(spec.param.swishParam?.beta, 1, 'swish_param.beta', this.where);
  }

  protected apply(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, tf.sigmoid(this.beta === 1 ? x : tf.mul(x, this.beta)));
  }
}

registerLayer('Swish', (spec) => new SwishLayer(spec));
