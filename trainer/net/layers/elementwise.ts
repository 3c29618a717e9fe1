// Shared by the element-wise layers (Caffe's NeuronLayer family): one bottom, one top of the same shape,
// no parameters; each subclass gives its function, written with tfjs ops so autodiff gives the backward.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';

export abstract class ElementwiseLayer extends Layer {
  protected constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
  }

  protected abstract apply(x: tf.Tensor): tf.Tensor;

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    return [this.apply(x!)];
  }
}

/** `f(x)` whose gradient is zero everywhere (Caffe's layers that do not back-propagate, e.g. Threshold). */
export function withoutGradient(f: (x: tf.Tensor) => tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    return { value: f(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  }) as (x: tf.Tensor) => tf.Tensor;
}
