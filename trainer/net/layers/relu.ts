// ReLU: y = max(0, x) + negative_slope · min(0, x).
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { reluKeepingOutput } from './lean-gradients.js';
import { finiteNumber } from './params.js';
import { registerLayer } from './registry.js';

export class ReLULayer extends Layer {
  readonly negativeSlope: number;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    this.negativeSlope = finiteNumber(
      spec.param.reluParam?.negativeSlope,
      0,
      'relu_param.negative_slope',
      this.where,
    );
  }

  // The derivative at exactly 0 is Caffe's: 0 for the plain ReLU, negative_slope for the leaky one.
  forward([x]: tf.Tensor[]): tf.Tensor[] {
    // The plain ReLU keeps its top for backward, not its bottom (lean-gradients.ts).
    return [this.negativeSlope === 0 ? reluKeepingOutput(x!) : tf.leakyRelu(x!, this.negativeSlope)];
  }
}

registerLayer('ReLU', (spec) => new ReLULayer(spec));
