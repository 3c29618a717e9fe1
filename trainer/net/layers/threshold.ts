// Threshold: y = 1 where x > threshold_param.threshold (default 0), else 0. Caffe has no backward for it;
// here its gradient is zero.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { ElementwiseLayer, withoutGradient } from './elementwise.js';
import { finiteNumber } from './params.js';
import { registerLayer } from './registry.js';

export class ThresholdLayer extends ElementwiseLayer {
  readonly threshold: number;
  private readonly step: (x: tf.Tensor) => tf.Tensor;

  constructor(spec: LayerSpec) {
    super(spec);
    this.threshold = finiteNumber(
      spec.param.thresholdParam?.threshold,
      0,
      'threshold_param.threshold',
      this.where,
    );
    this.step = withoutGradient((x) => tf.cast(tf.greater(x, this.threshold), 'float32'));
  }

  protected apply(x: tf.Tensor): tf.Tensor {
    return this.step(x);
  }
}

registerLayer('Threshold', (spec) => new ThresholdLayer(spec));
