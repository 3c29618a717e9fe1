// Clip: y = min(max(x, clip_param.min), clip_param.max); the gradient passes where min <= x <= max.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import type { LayerSpec } from '../spec/types.js';
import { ElementwiseLayer } from './elementwise.js';
import { registerLayer } from './registry.js';

export class ClipLayer extends ElementwiseLayer {
  readonly min: number;
  readonly max: number;

  constructor(spec: LayerSpec) {
    super(spec);
    const param = spec.param.clipParam;
    if (param?.min === undefined || param.max === undefined) {
      throw new BadInputError('clip_param: expected both min and max (Caffe requires them)', this.where);
    }
    if (!(param.min <= param.max)) {
      throw new BadInputError(
        `clip_param: expected min <= max, received ${param.min} > ${param.max}`,
        this.where,
      );
    }
    this.min = param.min;
    this.max = param.max;
  }

  protected apply(x: tf.Tensor): tf.Tensor {
    // tfjs's clipByValue passes the gradient where min <= x <= max, both ends included, as Caffe.
    return tf.clipByValue(x, this.min, this.max);
  }
}

registerLayer('Clip', (spec) => new ClipLayer(spec));
