// Log: y = log_base(shift + scale · x); base -1 (the default) means e.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import type { LayerSpec } from '../spec/types.js';
import { ElementwiseLayer } from './elementwise.js';
import { finiteNumber } from './params.js';
import { registerLayer } from './registry.js';

/** ln(base) for Exp and Log: base is -1 (meaning e) or a positive number. */
export function logBase(base: number | undefined, field: string, where: string): number {
  const b = base ?? -1;
  if (b === -1) return 1;
  if (!(b > 0 && Number.isFinite(b))) {
    throw new BadInputError(`${field}: expected -1 (for e) or a positive number, received ${b}`, where);
  }
  return Math.log(b);
}

export class LogLayer extends ElementwiseLayer {
  readonly scale: number;
  readonly shift: number;
  private readonly baseScale: number;

  constructor(spec: LayerSpec) {
    super(spec);
    const param = spec.param.logParam ?? {};
    this.baseScale = 1 / logBase(param.base, 'log_param.base', this.where);
    this.scale = finiteNumber(param.scale, 1, 'log_param.scale', this.where);
    this.shift = finiteNumber(param.shift, 0, 'log_param.shift', this.where);
  }

  protected apply(x: tf.Tensor): tf.Tensor {
    let inner = this.scale === 1 ? x : tf.mul(x, this.scale);
    if (this.shift !== 0) inner = tf.add(inner, this.shift);
    const y = tf.log(inner);
    return this.baseScale === 1 ? y : tf.mul(y, this.baseScale);
  }
}

registerLayer('Log', (spec) => new LogLayer(spec));
