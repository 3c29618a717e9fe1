// Im2col: convolution windows as columns (layout in spec/rules/im2col.ts). For each kernel tap (i, j) the
// strided grid of input pixels it reads is cut out with pad, slice and reshape only, and the taps are
// stacked after the channel axis, giving Caffe's channel order c·kh·kw + tap. Those ops have gradients on
// every backend (tfjs-backend-wasm has no depthwise convolution gradient, so that route is not taken).
import * as tf from '@tensorflow/tfjs-core';

import { im2colGeometry, type WindowGeometry } from '../spec/rules/im2col.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

export class Im2colLayer extends Layer {
  readonly geometry: WindowGeometry;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    this.geometry = im2colGeometry({
      layer: spec.param,
      where: this.where,
      name: spec.name,
      bottomShapes: [this.bottomShape(0)],
      topCount: 1,
      phase: 0,
      dataShape: { channels: 0, height: 0, width: 0 },
    });
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    const { kernel, pad, stride, dilation, output } = this.geometry;
    const [n, c, h, w] = this.bottomShape(0) as [number, number, number, number];
    // Room for the last tap's whole strided window: (k − 1)·d + stride·out rows (and columns) after padding.
    const need = [0, 1].map((a) => (kernel[a]! - 1) * dilation[a]! + stride[a]! * output[a]!);
    const after = [need[0]! - h - pad[0], need[1]! - w - pad[1]].map((v, a) => Math.max(v, pad[a]!));
    const padded = tf.pad(x!, [
      [0, 0],
      [0, 0],
      [pad[0], after[0]!],
      [pad[1], after[1]!],
    ]);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kernel[0]; i++) {
      for (let j = 0; j < kernel[1]; j++) {
        const window = tf.slice(
          padded,
          [0, 0, i * dilation[0], j * dilation[1]],
          [n, c, stride[0] * output[0], stride[1] * output[1]],
        );
        const grid = tf.reshape(window, [n, c, output[0], stride[0], output[1], stride[1]]);
        taps.push(
          tf.reshape(tf.slice(grid, [0, 0, 0, 0, 0, 0], [n, c, output[0], 1, output[1], 1]), [
            n,
            c,
            output[0],
            output[1],
          ]),
        );
      }
    }
    return [tf.reshape(tf.stack(taps, 2), [n, c * taps.length, output[0], output[1]])];
  }
}

registerLayer('Im2col', (spec) => new Im2colLayer(spec));
