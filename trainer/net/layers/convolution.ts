// Convolution: Caffe's cross-correlation over NCHW blobs with zero padding, stride, dilation and groups.
// Weights are stored as Caffe stores them, (num_output, channels / group, kernel_h, kernel_w), and the bias
// as (num_output). The computation runs as tf.conv2d on NHWC, one call per group.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import type { ConvolutionParameter } from '../../proto/messages.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer, type LayerContext } from './layer.js';
import { addChannelBias } from './lean-gradients.js';
import { positiveInt, unsupported } from './params.js';
import { registerLayer } from './registry.js';

/** The 2-D geometry of a convolution, each pair as (h, w). */
export interface ConvGeometry {
  numOutput: number;
  biasTerm: boolean;
  group: number;
  kernel: [number, number];
  pad: [number, number];
  stride: [number, number];
  dilation: [number, number];
}

export class ConvolutionLayer extends Layer {
  readonly geometry: ConvGeometry;

  constructor(spec: LayerSpec, context: LayerContext) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const param = spec.param.convolutionParam ?? {};
    this.geometry = readConvGeometry(param, this.where);
    const input = this.bottomShape(0);
    if (input.length !== 4)
      unsupported('convolution input', `a ${input.length}-axis blob (only NCHW)`, this.where);
    if ((param.axis ?? 1) !== 1) unsupported('convolution_param.axis', param.axis, this.where);
    const channels = input[1]!;
    const { group, numOutput } = this.geometry;
    if (channels % group !== 0 || numOutput % group !== 0) {
      throw new BadInputError(
        `convolution_param.group: expected a divisor of both the input channels (${channels}) and num_output ` +
          `(${numOutput}), received ${group}`,
        this.where,
      );
    }
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
    const [weights, bias] = this.blobs;
    return [
      convolveNCHW(x as tf.Tensor4D, weights as tf.Tensor4D, bias as tf.Tensor1D | undefined, this.geometry),
    ];
  }
}

/** Reads kernel, pad, stride, dilation and group as Caffe does: one value for both axes or one per axis. */
export function readConvGeometry(param: ConvolutionParameter, where: string): ConvGeometry {
  const numOutput = positiveInt(param.numOutput, undefined, 'convolution_param.num_output', where);
  const group = positiveInt(param.group, 1, 'convolution_param.group', where);
  const kernel = pairOf(param.kernelSize, param.kernelH, param.kernelW, undefined, 'kernel', where);
  const pad = pairOf(param.pad, param.padH, param.padW, 0, 'pad', where);
  const stride = pairOf(param.stride, param.strideH, param.strideW, 1, 'stride', where);
  const dilation = pairOf(param.dilation, undefined, undefined, 1, 'dilation', where);
  for (const [name, pair, min] of [
    ['kernel_size', kernel, 1],
    ['pad', pad, 0],
    ['stride', stride, 1],
    ['dilation', dilation, 1],
  ] as const) {
    for (const v of pair) {
      if (!Number.isInteger(v) || v < min) {
        const expected = min === 1 ? 'a positive integer' : 'a non-negative integer';
        throw new BadInputError(`convolution_param.${name}: expected ${expected}, received ${v}`, where);
      }
    }
  }
  return { numOutput, biasTerm: param.biasTerm ?? true, group, kernel, pad, stride, dilation };
}

/** y = conv(x, W) + b for NCHW x and Caffe-layout W; returns NCHW. */
export function convolveNCHW(
  x: tf.Tensor4D,
  weights: tf.Tensor4D,
  bias: tf.Tensor1D | undefined,
  geometry: ConvGeometry,
): tf.Tensor4D {
  const { group, pad, stride, dilation } = geometry;
  const xNHWC = tf.transpose(x, [0, 2, 3, 1]);
  // (out, in/group, kh, kw) → tf's (kh, kw, in/group, out).
  const filter = tf.transpose(dilateKernel(weights, dilation), [2, 3, 1, 0]);
  // Zero padding as its own op, then a 'valid' convolution: tfjs-node's gradient of conv2d supports
  // only 'valid' and 'same', not explicit pads, and the pad's gradient is a plain slice everywhere.
  const padded =
    pad[0] === 0 && pad[1] === 0
      ? xNHWC
      : tf.pad(xNHWC, [
          [0, 0],
          [pad[0], pad[0]],
          [pad[1], pad[1]],
          [0, 0],
        ]);
  const inputs = (group === 1 ? [padded] : tf.split(padded, group, 3)) as tf.Tensor4D[];
  const filters = (group === 1 ? [filter] : tf.split(filter, group, 3)) as tf.Tensor4D[];
  const outputs = inputs.map((input, g) => tf.conv2d(input, filters[g]!, stride, 'valid', 'NHWC'));
  let y = outputs.length === 1 ? outputs[0]! : tf.concat(outputs, 3);
  if (bias) y = addChannelBias(y, bias) as tf.Tensor4D; // not keeping y for backward (lean-gradients.ts)
  return tf.transpose(y, [0, 3, 1, 2]);
}

/**
 * A dilated kernel written out with zeros between its taps, so the convolution itself has dilation 1:
 * tfjs computes conv2d with dilations but has no gradient for them.
 */
function dilateKernel(weights: tf.Tensor4D, dilation: [number, number]): tf.Tensor4D {
  let w = weights;
  for (const [axis, d] of [
    [2, dilation[0]],
    [3, dilation[1]],
  ] as const) {
    if (d === 1) continue;
    const shape = w.shape;
    const taps = shape[axis];
    // (…, k, …) → (…, k, d, …) with zeros in the d - 1 extra slots → (…, k·d, …) → first d·(k-1)+1.
    const expanded = tf.expandDims(w, axis + 1);
    const padding = expanded.shape.map((_, i): [number, number] => (i === axis + 1 ? [0, d - 1] : [0, 0]));
    const spread = tf.pad(expanded, padding);
    const merged = [...shape];
    merged[axis] = taps * d;
    const begin = [0, 0, 0, 0];
    const size = [...shape];
    size[axis] = d * (taps - 1) + 1;
    w = tf.slice(tf.reshape(spread, merged), begin, size) as tf.Tensor4D;
  }
  return w;
}

function pairOf(
  repeated: number[] | undefined,
  h: number | undefined,
  w: number | undefined,
  fallback: number | undefined,
  name: 'kernel' | 'pad' | 'stride' | 'dilation',
  where: string,
): [number, number] {
  const field = name === 'kernel' ? 'kernel_size' : name;
  const values = repeated ?? [];
  if (h !== undefined || w !== undefined) {
    if (values.length > 0) {
      throw new BadInputError(
        `convolution_param: expected either ${field} or ${name}_h/${name}_w, received both`,
        where,
      );
    }
    if (name === 'kernel' && (h === undefined || w === undefined)) {
      throw new BadInputError(
        'convolution_param: a non-square kernel needs both kernel_h and kernel_w',
        where,
      );
    }
    return [h ?? fallback ?? 0, w ?? fallback ?? 0];
  }
  if (values.length === 0) {
    if (fallback === undefined) {
      throw new BadInputError(
        `convolution_param.${field}: expected a positive integer, received nothing`,
        where,
      );
    }
    return [fallback, fallback];
  }
  if (values.length > 2) {
    throw new BadInputError(
      `convolution_param.${field}: expected 1 or 2 values (2-D), received ${values.length}`,
      where,
    );
  }
  return [values[0]!, values[values.length - 1]!];
}

registerLayer('Convolution', (spec, context) => new ConvolutionLayer(spec, context));
