// AbsVal: y = |x|; dy/dx = sign(x), 0 at 0 as in Caffe.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { ElementwiseLayer } from './elementwise.js';
import { registerLayer } from './registry.js';

export class AbsValLayer extends ElementwiseLayer {
  constructor(spec: LayerSpec) {
    super(spec);
  }

  protected apply(x: tf.Tensor): tf.Tensor {
    return tf.abs(x);
  }
}

registerLayer('AbsVal', (spec) => new AbsValLayer(spec));
