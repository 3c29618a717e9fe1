// TanH: y = tanh(x).
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

export class TanHLayer extends Layer {
  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    return [tf.tanh(x!)];
  }
}

registerLayer('TanH', (spec) => new TanHLayer(spec));
