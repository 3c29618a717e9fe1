// Deconvolution: Caffe's transposed convolution (the backward of Convolution's input gradient), over NCHW
// with pad, stride, dilation and groups. Weights as Caffe stores them, (channels, num_output / group,
// kernel_h, kernel_w); bias (num_output). Computed as a plain stride-1 'valid' tf.conv2d over the input
// spread out by the stride (zeros between pixels) and padded by extent − 1 − pad, with the kernel flipped:
// every op has a tfjs gradient on every backend.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { type ConvGeometry, readConvGeometry } from './convolution.js';
import { exactly, Layer, type LayerContext } from './layer.js';
import { registerLayer } from './registry.js';

export class DeconvolutionLayer extends Layer {
  readonly geometry: ConvGeometry;

  constructor(spec: LayerSpec, context: LayerContext) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const param = spec.param.convolutionParam ?? {};
    this.geometry = readConvGeometry(param, this.where);
    this.addFilledBlob(
      this.paramShape(0),
      param.weightFiller,
      'convolution_param.weight_filler',
      context.rng,
    );
    if (this.geometry.biasTerm) {
      this.addFilledBlob(this.paramShape(1), param.biasFiller, 'convolution_param.bias_filler', context.rng);
    }
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    const { group, pad, stride, dilation, kernel } = this.geometry;
    const [weights, bias] = this.blobs as unknown as [tf.Tensor4D, tf.Tensor1D | undefined];
    let input = spread(tf.transpose(x as tf.Tensor4D, [0, 2, 3, 1]), stride, [1, 2]);
    const extent = [0, 1].map((i) => dilation[i]! * (kernel[i]! - 1) + 1);
    const border = [0, 1].map((i) => extent[i]! - 1 - pad[i]!);
    if (border.some((b) => b > 0)) {
      input = tf.pad(input, [
        [0, 0],
        [Math.max(0, border[0]!), Math.max(0, border[0]!)],
        [Math.max(0, border[1]!), Math.max(0, border[1]!)],
        [0, 0],
      ]);
    }
    if (border.some((b) => b < 0)) {
      const [, h, w] = input.shape;
      const cut = border.map((b) => Math.max(0, -b));
      input = tf.slice(input, [0, cut[0]!, cut[1]!, 0], [-1, h - 2 * cut[0]!, w - 2 * cut[1]!, -1]);
    }
    // (in, out/group, kh, kw) → dilated, flipped → tf's (kh, kw, in, out/group).
    const flipped = tf.reverse(spread(weights, dilation, [2, 3]), [2, 3]);
    const filter = tf.transpose(flipped, [2, 3, 0, 1]) as tf.Tensor4D;
    const inputs = (group === 1 ? [input] : tf.split(input, group, 3)) as tf.Tensor4D[];
    const filters = (group === 1 ? [filter] : tf.split(filter, group, 2)) as tf.Tensor4D[];
    const outputs = inputs.map((part, g) => tf.conv2d(part, filters[g]!, 1, 'valid', 'NHWC'));
    let y = outputs.length === 1 ? outputs[0]! : tf.concat(outputs, 3);
    if (bias) y = tf.add(y, bias);
    return [tf.transpose(y, [0, 3, 1, 2])];
  }
}

/** `t` with `step[k] − 1` zeros between neighbours along `axes[k]` (length step·(n − 1) + 1). */
function spread<T extends tf.Tensor4D>(t: T, step: [number, number], axes: [number, number]): T {
  let out: tf.Tensor4D = t;
  axes.forEach((axis, k) => {
    const s = step[k]!;
    if (s === 1) return;
    const shape = out.shape;
    const n = shape[axis]!;
    const expanded = tf.expandDims(out, axis + 1);
    const padding = expanded.shape.map((_, i): [number, number] => (i === axis + 1 ? [0, s - 1] : [0, 0]));
    const merged = [...shape];
    merged[axis] = n * s;
    const size = [...shape];
    size[axis] = s * (n - 1) + 1;
    out = tf.slice(tf.reshape(tf.pad(expanded, padding), merged), [0, 0, 0, 0], size) as tf.Tensor4D;
  });
  return out as T;
}

registerLayer('Deconvolution', (spec, context) => new DeconvolutionLayer(spec, context));
