// Im2col: convolution windows as columns (layout in spec/rules/im2col.ts), computed as a depthwise
// convolution with a one-hot filter per tap: channel multiplier kh·kw gives exactly Caffe's channel order
// c·kh·kw + tap. Padding is its own op and the filter is dilated by hand, so tfjs has every gradient.
import * as tf from '@tensorflow/tfjs-core';

import { im2colGeometry, type WindowGeometry } from '../spec/rules/im2col.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

export class Im2colLayer extends Layer {
  readonly geometry: WindowGeometry;
  private readonly filter: tf.Tensor4D;

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
    const { kernel, dilation } = this.geometry;
    const channels = this.bottomShape(0)[1]!;
    const [eh, ew] = [0, 1].map((i) => dilation[i]! * (kernel[i]! - 1) + 1) as [number, number];
    const taps = kernel[0] * kernel[1];
    // (extent_h, extent_w, channels, taps): tap t = i·kw + j reads offset (i·d_h, j·d_w) of every channel.
    const values = new Float32Array(eh * ew * channels * taps);
    for (let i = 0; i < kernel[0]; i++) {
      for (let j = 0; j < kernel[1]; j++) {
        const row = i * dilation[0];
        const col = j * dilation[1];
        for (let c = 0; c < channels; c++)
          values[((row * ew + col) * channels + c) * taps + i * kernel[1] + j] = 1;
      }
    }
    this.filter = tf.tensor4d(values, [eh, ew, channels, taps]);
  }

  override dispose(): void {
    super.dispose();
    this.filter.dispose();
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    const { pad, stride } = this.geometry;
    let input = tf.transpose(x as tf.Tensor4D, [0, 2, 3, 1]);
    if (pad[0] > 0 || pad[1] > 0) {
      input = tf.pad(input, [
        [0, 0],
        [pad[0], pad[0]],
        [pad[1], pad[1]],
        [0, 0],
      ]);
    }
    const columns = tf.depthwiseConv2d(input, this.filter, stride, 'valid', 'NHWC');
    return [tf.transpose(columns, [0, 3, 1, 2])];
  }
}

registerLayer('Im2col', (spec) => new Im2colLayer(spec));
