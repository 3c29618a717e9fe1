// HingeLoss: scores N × K (axes 1.. flattened) and one label per item. With t = -1 at the label and +1
// elsewhere, margins m = max(0, 1 + t · score); loss = Σ m / N (L1, the default) or Σ m² / N (L2).
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import { Norm } from '../../proto/messages.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { countOf, enumValue } from './params.js';
import { registerLayer } from './registry.js';

export class HingeLossLayer extends Layer {
  readonly norm: number;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(2), tops: exactly(1) });
    this.norm = enumValue(
      spec.param.hingeLossParam?.norm,
      Norm.L1,
      Norm,
      'hinge_loss_param.norm',
      this.where,
    );
  }

  forward([scores, labels]: tf.Tensor[]): tf.Tensor[] {
    const num = this.bottomShape(0)[0]!;
    const classes = countOf(this.bottomShape(0)) / num;
    const signs = new Float32Array(num * classes).fill(1);
    labels!.dataSync().forEach((value, i) => {
      const label = Math.trunc(value);
      if (!(label >= 0 && label < classes)) {
        throw new BadInputError(
          `label of item ${i}: expected an integer in [0, ${classes}), received ${value}`,
          this.where,
        );
      }
      signs[i * classes + label] = -1;
    });
    const margins = tf.relu(
      tf.add(1, tf.mul(tf.reshape(scores!, [num, classes]), tf.tensor2d(signs, [num, classes]))),
    );
    const total = this.norm === Norm.L2 ? tf.sum(tf.square(margins)) : tf.sum(margins);
    return [tf.div(total, num)];
  }
}

registerLayer('HingeLoss', (spec) => new HingeLossLayer(spec));
