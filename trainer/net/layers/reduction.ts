// Reduction: each top value is coeff × (SUM | ASUM | SUMSQ | MEAN) of the bottom values that share its
// leading axes (those before reduction_param.axis).
import * as tf from '@tensorflow/tfjs-core';

import { ReductionOp } from '../../proto/messages.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { countOf, enumValue, finiteNumber } from './params.js';
import { registerLayer } from './registry.js';

export class ReductionLayer extends Layer {
  readonly operation: number;
  readonly coeff: number;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const param = spec.param.reductionParam ?? {};
    this.operation = enumValue(
      param.operation,
      ReductionOp.SUM,
      ReductionOp,
      'reduction_param.operation',
      this.where,
    );
    this.coeff = finiteNumber(param.coeff, 1, 'reduction_param.coeff', this.where);
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    const top = this.topShape(0);
    const rows = tf.reshape(x!, [countOf(top), -1]);
    const values =
      this.operation === ReductionOp.ASUM
        ? tf.abs(rows)
        : this.operation === ReductionOp.SUMSQ
          ? tf.square(rows)
          : rows;
    const inner = countOf(this.bottomShape(0)) / Math.max(1, countOf(top));
    const scale = this.operation === ReductionOp.MEAN ? this.coeff / inner : this.coeff;
    const sums = tf.sum(values, 1);
    return [tf.reshape(scale === 1 ? sums : tf.mul(sums, scale), top)];
  }
}

registerLayer('Reduction', (spec) => new ReductionLayer(spec));
