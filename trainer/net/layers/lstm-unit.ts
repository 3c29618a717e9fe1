// LSTMUnit: one LSTM step. Gate inputs are laid out i, f, o, g (H each): c = f·c_prev + i·g and
// h = o·tanh(c), with i, o = sigmoid, g = tanh, and f = cont · sigmoid (cont 0 forgets c_prev). cont gets
// no gradient, as in Caffe.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

/** One step on N × H state and N × 4H gate inputs, cont N × 1; returns [c, h], both N × H. */
export function lstmStep(cPrev: tf.Tensor, gates: tf.Tensor, cont: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const [i, f, o, g] = tf.split(gates, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const c = tf.add(tf.mul(tf.mul(cont, tf.sigmoid(f)), cPrev), tf.mul(tf.sigmoid(i), tf.tanh(g)));
  return [c, tf.mul(tf.sigmoid(o), tf.tanh(c))];
}

export class LSTMUnitLayer extends Layer {
  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(3), tops: exactly(2) });
  }

  forward([cPrev, gates, cont]: tf.Tensor[]): tf.Tensor[] {
    const [, n, h] = this.bottomShape(0) as [number, number, number];
    // Caffe compat: f is exactly 0 where cont is 0, else cont · sigmoid (cont is read as a number).
    const mask = tf.tensor2d(Float32Array.from(cont!.dataSync()), [n, 1]);
    const [c, hidden] = lstmStep(tf.reshape(cPrev!, [n, h]), tf.reshape(gates!, [n, 4 * h]), mask);
    return [tf.reshape(c, [1, n, h]), tf.reshape(hidden, [1, n, h])];
  }
}

registerLayer('LSTMUnit', (spec) => new LSTMUnitLayer(spec));
