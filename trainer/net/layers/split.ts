// Split: copies one blob to several tops (Caffe inserts it where a blob feeds several layers). The
// gradients of the copies add up, which tfjs's autodiff does by itself.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { atLeast, exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

export class SplitLayer extends Layer {
  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: atLeast(1) });
  }

  // Clones share the data; each top is its own tensor so the Net may dispose them one by one.
  forward([x]: tf.Tensor[]): tf.Tensor[] {
    return this.spec.tops.map(() => tf.clone(x!));
  }
}

registerLayer('Split', (spec) => new SplitLayer(spec));
