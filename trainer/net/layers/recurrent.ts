// Shared by RNN and LSTM (Caffe's RecurrentLayer family): the blobs with their fillers, the input transforms
// (W x_t + b for every step at once, plus W_static x_static), and the cont masks. Each subclass runs its
// steps in forward; the hidden state starts at zero, as in Caffe without expose_hidden.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { Layer, type LayerContext } from './layer.js';
import { lstmStep } from './lstm-unit.js';
import { registerLayer } from './registry.js';

export abstract class RecurrentLayer extends Layer {
  readonly steps: number;
  readonly items: number;
  readonly hidden: number;
  readonly hasStatic: boolean;

  protected constructor(spec: LayerSpec, context: LayerContext) {
    super(spec, { bottoms: { min: 2, max: 3 }, tops: { min: 1, max: 1 } });
    const param = spec.param.recurrentParam ?? {};
    [this.steps, this.items] = this.bottomShape(0) as [number, number];
    this.hidden = this.topShape(0)[2]!;
    this.hasStatic = spec.bottoms.length === 3;
    // Caffe's unrolled net fills weights with weight_filler and biases with bias_filler.
    spec.paramShapes.forEach((shape) => {
      const bias = shape.length === 1;
      this.addFilledBlob(
        shape,
        bias ? param.biasFiller : param.weightFiller,
        bias ? 'recurrent_param.bias_filler' : 'recurrent_param.weight_filler',
        context.rng,
      );
    });
  }

  /** W x_t + b (+ W_static x_static) for every step: T tensors of N × rows(W). */
  protected inputTransforms(x: tf.Tensor, xStatic: tf.Tensor | undefined): tf.Tensor[] {
    const [w, b, wStatic] = this.blobs;
    const flat = tf.reshape(x, [this.steps * this.items, -1]);
    let all = tf.add(tf.matMul(flat, w!, false, true), b!);
    all = tf.reshape(all, [this.steps, this.items, -1]);
    if (xStatic && wStatic) {
      const fixed = tf.matMul(tf.reshape(xStatic, [this.items, -1]), wStatic, false, true);
      all = tf.add(all, tf.expandDims(fixed, 0));
    }
    return tf.unstack(all, 0);
  }

  /** cont as T masks of N × 1 (read as numbers, as Caffe's Scale by cont). */
  protected contMasks(cont: tf.Tensor): tf.Tensor[] {
    const values = cont.dataSync();
    return Array.from({ length: this.steps }, (_, t) =>
      tf.tensor2d(Float32Array.from(values.subarray(t * this.items, (t + 1) * this.items)), [this.items, 1]),
    );
  }
}

/** RNN: h_t = tanh(W_hh (cont_t · h_{t-1}) + W_xh x_t + b_h [+ W_xh_static x_static]); o_t = tanh(W_ho h_t + b_o). */
export class RNNLayer extends RecurrentLayer {
  constructor(spec: LayerSpec, context: LayerContext) {
    super(spec, context);
  }

  forward([x, cont, xStatic]: tf.Tensor[]): tf.Tensor[] {
    const inputs = this.inputTransforms(x!, xStatic);
    const masks = this.contMasks(cont!);
    const [wHh, wHo, bO] = this.blobs.slice(this.hasStatic ? 3 : 2);
    let h: tf.Tensor = tf.zeros([this.items, this.hidden]);
    const outputs = inputs.map((input, t) => {
      h = tf.tanh(tf.add(tf.matMul(tf.mul(masks[t]!, h), wHh!, false, true), input));
      return tf.tanh(tf.add(tf.matMul(h, wHo!, false, true), bO!));
    });
    return [tf.stack(outputs, 0)];
  }
}

/** LSTM: gates_t = W_hc (cont_t · h_{t-1}) + W_xc x_t + b_c [+ W_xc_static x_static], then an LSTMUnit step. */
export class LSTMLayer extends RecurrentLayer {
  constructor(spec: LayerSpec, context: LayerContext) {
    super(spec, context);
  }

  forward([x, cont, xStatic]: tf.Tensor[]): tf.Tensor[] {
    const inputs = this.inputTransforms(x!, xStatic);
    const masks = this.contMasks(cont!);
    const wHc = this.blobs[this.hasStatic ? 3 : 2]!;
    let h: tf.Tensor = tf.zeros([this.items, this.hidden]);
    let c: tf.Tensor = tf.zeros([this.items, this.hidden]);
    const outputs = inputs.map((input, t) => {
      const gates = tf.add(tf.matMul(tf.mul(masks[t]!, h), wHc, false, true), input);
      [c, h] = lstmStep(c, gates, masks[t]!);
      return h;
    });
    return [tf.stack(outputs, 0)];
  }
}

registerLayer('RNN', (spec, context) => new RNNLayer(spec, context));
registerLayer('LSTM', (spec, context) => new LSTMLayer(spec, context));
