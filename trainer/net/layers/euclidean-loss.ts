// EuclideanLoss: Σ (a - b)² / (2 N), N the size of axis 0. Both bottoms get gradients.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

export class EuclideanLossLayer extends Layer {
  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(2), tops: exactly(1) });
  }

  forward([a, b]: tf.Tensor[]): tf.Tensor[] {
    const num = this.bottomShape(0)[0]!;
    const difference = tf.sub(a!, tf.reshape(b!, a!.shape));
    return [tf.div(tf.sum(tf.square(difference)), 2 * num)];
  }
}

registerLayer('EuclideanLoss', (spec) => new EuclideanLossLayer(spec));
