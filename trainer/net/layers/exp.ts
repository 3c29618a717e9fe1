// Exp: y = base ^ (shift + scale · x); base -1 (the default) means e.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { ElementwiseLayer } from './elementwise.js';
import { logBase } from './log.js';
import { finiteNumber } from './params.js';
import { registerLayer } from './registry.js';

export class ExpLayer extends ElementwiseLayer {
  private readonly innerScale: number;
  private readonly outerScale: number;

  constructor(spec: LayerSpec) {
    super(spec);
    const param = spec.param.expParam ?? {};
    const lnBase = logBase(param.base, 'exp_param.base', this.where);
    const scale = finiteNumber(param.scale, 1, 'exp_param.scale', this.where);
    const shift = finiteNumber(param.shift, 0, 'exp_param.shift', this.where);
    // As Caffe: y = base^shift · exp(ln(base) · scale · x).
    this.innerScale = lnBase * scale;
    this.outerScale = shift === 0 ? 1 : Math.exp(lnBase * shift);
  }

  protected apply(x: tf.Tensor): tf.Tensor {
    const y = tf.exp(this.innerScale === 1 ? x : tf.mul(x, this.innerScale));
    return this.outerScale === 1 ? y : tf.mul(y, this.outerScale);
  }
}

registerLayer('Exp', (spec) => new ExpLayer(spec));
