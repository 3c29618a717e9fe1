// Concat: joins its bottoms along concat_param.axis (default 1, channels). The deprecated concat_dim is
// the same thing for non-negative axes.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import type { LayerSpec } from '../spec/types.js';
import { atLeast, exactly, Layer } from './layer.js';
import { canonicalAxis } from './params.js';
import { registerLayer } from './registry.js';

export class ConcatLayer extends Layer {
  readonly axis: number;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: atLeast(1), tops: exactly(1) });
    const param = spec.param.concatParam;
    if (param?.axis !== undefined && param.concatDim !== undefined) {
      throw new BadInputError('concat_param: expected either axis or concat_dim, received both', this.where);
    }
    const rank = this.bottomShape(0).length;
    const field = param?.concatDim !== undefined ? 'concat_param.concat_dim' : 'concat_param.axis';
    this.axis = canonicalAxis(param?.concatDim ?? param?.axis ?? 1, rank, field, this.where);
  }

  forward(bottoms: tf.Tensor[]): tf.Tensor[] {
    return [tf.concat(bottoms, this.axis)];
  }
}

registerLayer('Concat', (spec) => new ConcatLayer(spec));
