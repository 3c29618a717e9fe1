// Eltwise: element-wise SUM (with optional per-bottom coefficients), PROD or MAX of equally shaped bottoms.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import { EltwiseOp } from '../../proto/messages.js';
import type { LayerSpec } from '../spec/types.js';
import { atLeast, exactly, Layer } from './layer.js';
import { enumValue } from './params.js';
import { registerLayer } from './registry.js';

export class EltwiseLayer extends Layer {
  readonly operation: number;
  readonly coefficients: number[];

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: atLeast(2), tops: exactly(1) });
    const param = spec.param.eltwiseParam;
    this.operation = enumValue(
      param?.operation,
      EltwiseOp.SUM,
      EltwiseOp,
      'eltwise_param.operation',
      this.where,
    );
    const coeff = param?.coeff ?? [];
    if (coeff.length > 0 && this.operation !== EltwiseOp.SUM) {
      throw new BadInputError('eltwise_param.coeff: coefficients apply to SUM only', this.where);
    }
    if (coeff.length > 0 && coeff.length !== spec.bottoms.length) {
      throw new BadInputError(
        `eltwise_param.coeff: expected one coefficient per bottom (${spec.bottoms.length}), received ${coeff.length}`,
        this.where,
      );
    }
    this.coefficients = coeff.length > 0 ? [...coeff] : spec.bottoms.map(() => 1);
    const first = this.bottomShape(0).join('x');
    spec.bottomShapes.forEach((shape, i) => {
      if (shape.join('x') !== first) {
        throw new BadInputError(
          `bottom ${i}: expected shape ${first} like bottom 0, received ${shape.join('x')}`,
          this.where,
        );
      }
    });
  }

  forward(bottoms: tf.Tensor[]): tf.Tensor[] {
    if (this.operation === EltwiseOp.PROD) return [bottoms.reduce((product, x) => tf.mul(product, x))];
    if (this.operation === EltwiseOp.MAX) return [caffeMax(bottoms)];
    const terms = bottoms.map((x, i) => (this.coefficients[i] === 1 ? x : tf.mul(x, this.coefficients[i]!)));
    return [terms.length === 1 ? terms[0]! : tf.addN(terms)];
  }
}

/**
 * Caffe compat: Caffe's MAX sends the gradient to one bottom per element: between bottoms 0 and 1 a tie goes
 * to bottom 1, after that a tie stays with the earlier winner. tf.maximum(a, b) sends a tie to `a`, so
 * the first pair is taken as maximum(b1, b0) and later ones as maximum(winner, bk).
 */
function caffeMax(bottoms: tf.Tensor[]): tf.Tensor {
  let winner = tf.maximum(bottoms[1]!, bottoms[0]!);
  for (const x of bottoms.slice(2)) winner = tf.maximum(winner, x);
  return winner;
}

registerLayer('Eltwise', (spec) => new EltwiseLayer(spec));
