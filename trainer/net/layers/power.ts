// Power: y = (shift + scale · x) ^ power.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { ElementwiseLayer } from './elementwise.js';
import { finiteNumber } from './params.js';
import { registerLayer } from './registry.js';

export class PowerLayer extends ElementwiseLayer {
  readonly power: number;
  readonly scale: number;
  readonly shift: number;

  constructor(spec: LayerSpec) {
    super(spec);
    const param = spec.param.powerParam ?? {};
    this.power = finiteNumber(param.power, 1, 'power_param.power', this.where);
    this.scale = finiteNumber(param.scale, 1, 'power_param.scale', this.where);
    this.shift = finiteNumber(param.shift, 0, 'power_param.shift', this.where);
  }

  protected apply(x: tf.Tensor): tf.Tensor {
    // Caffe compat: when power · scale is 0 the top is a constant (1 for power 0, shift^power for scale 0).
    if (this.power === 0 || this.scale === 0) {
      return tf.fill(x.shape, this.power === 0 ? 1 : this.shift ** this.power);
    }
    let inner = this.scale === 1 ? x : tf.mul(x, this.scale);
    if (this.shift !== 0) inner = tf.add(inner, this.shift);
    if (this.power === 1) return inner;
    if (this.power === 2) return tf.square(inner);
    return tf.pow(inner, this.power);
  }
}

registerLayer('Power', (spec) => new PowerLayer(spec));
