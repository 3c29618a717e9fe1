// Sigmoid: y = 1 / (1 + exp(-x)).
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

export class SigmoidLayer extends Layer {
  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    return [tf.sigmoid(x!)];
  }
}

registerLayer('Sigmoid', (spec) => new SigmoidLayer(spec));
