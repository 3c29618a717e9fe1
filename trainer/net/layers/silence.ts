// Silence: consumes blobs nobody else uses, so they are not net outputs. No tops, no gradient.
import type * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { atLeast, exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

export class SilenceLayer extends Layer {
  constructor(spec: LayerSpec) {
    super(spec, { bottoms: atLeast(1), tops: exactly(0) });
  }

  forward(_bottoms: tf.Tensor[]): tf.Tensor[] {
    return [];
  }
}

registerLayer('Silence', (spec) => new SilenceLayer(spec));
