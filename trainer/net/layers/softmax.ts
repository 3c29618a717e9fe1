// Softmax along softmax_param.axis (default 1, the channel axis of NCHW).
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { canonicalAxis } from './params.js';
import { registerLayer } from './registry.js';

export class SoftmaxLayer extends Layer {
  readonly axis: number;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const rank = this.bottomShape(0).length;
    this.axis = canonicalAxis(spec.param.softmaxParam?.axis ?? 1, rank, 'softmax_param.axis', this.where);
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    return [softmaxAlong(x!, this.axis)];
  }
}

/** Log-softmax along any axis (tf.logSoftmax works on the last axis only). */
export function logSoftmaxAlong(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.sub(x, tf.logSumExp(x, axis, true));
}

export function softmaxAlong(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.exp(logSoftmaxAlong(x, axis));
}

registerLayer('Softmax', (spec) => new SoftmaxLayer(spec));
