// Reshape: the bottom's values in a new shape, which the net spec computed (spec/rules/reshape.ts).
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

export class ReshapeLayer extends Layer {
  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    return [tf.reshape(x!, this.topShape(0))];
  }
}

registerLayer('Reshape', (spec) => new ReshapeLayer(spec));
