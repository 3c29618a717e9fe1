// Parameter: exposes its one learned blob as its top, so other layers can take a parameter as a bottom.
// Caffe leaves the blob unfilled (zeros) until weights are loaded; so does this layer.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { countOf } from './params.js';
import { registerLayer } from './registry.js';

export class ParameterLayer extends Layer {
  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(0), tops: exactly(1) });
    const shape = this.paramShape(0);
    this.addBlob(new Float32Array(countOf(shape)), shape, true);
  }

  forward(): tf.Tensor[] {
    return [tf.clone(this.blobs[0]!)];
  }
}

registerLayer('Parameter', (spec) => new ParameterLayer(spec));
