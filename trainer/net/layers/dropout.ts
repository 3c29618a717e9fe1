// Dropout: at TRAIN, each element is kept with probability 1 - p and scaled by 1 / (1 - p) (inverted
// dropout, so TEST is the identity). The mask comes from the net's seedable Rng, not from tfjs's.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import { Phase } from '../../proto/messages.js';
import type { Rng } from '../../rng.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer, type LayerContext } from './layer.js';
import { countOf } from './params.js';
import { registerLayer } from './registry.js';

export class DropoutLayer extends Layer {
  readonly ratio: number;
  private readonly rng: Rng;

  constructor(spec: LayerSpec, context: LayerContext) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    this.rng = context.rng;
    this.ratio = spec.param.dropoutParam?.dropoutRatio ?? 0.5;
    if (!(this.ratio >= 0 && this.ratio < 1)) {
      throw new BadInputError(
        `dropout_param.dropout_ratio: expected a number in [0, 1), received ${this.ratio}`,
        this.where,
      );
    }
  }

  forward([x]: tf.Tensor[], phase: number): tf.Tensor[] {
    if (phase !== Phase.TRAIN) return [tf.clone(x!)];
    const keep = 1 - this.ratio;
    const scale = 1 / keep;
    const mask = new Float32Array(countOf(x!.shape));
    // Caffe compat: the mask already carries the 1 / (1 - p) scale, as Caffe multiplies by mask · scale.
    for (let i = 0; i < mask.length; i++) mask[i] = this.rng.bernoulli(keep) * scale;
    return [tf.mul(x!, tf.tensor(mask, x!.shape, 'float32'))];
  }
}

registerLayer('Dropout', (spec, context) => new DropoutLayer(spec, context));
