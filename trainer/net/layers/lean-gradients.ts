// Ops whose backward keeps less than tfjs's own gradient of the same ops, with the same arithmetic.
//
// tfjs saves, for each op, the inputs and outputs its registered gradient reads (tfjs-core's
// src/gradients/*_grad.ts): ReLU keeps its input, so a convolution's output stays alive beside the ReLU's
// output; Add keeps both inputs though its gradient reads only their shapes, so every convolution keeps its
// output before the bias; LRN, built from seven ops, keeps about seven activations. Each op here is one
// tf.customGrad node that saves what Caffe's backward reads (ReLU: the top, as in-place Caffe does; LRN:
// bottom and scale, as Caffe's LRNLayer keeps scale_) and computes its gradient with the same tfjs ops, in
// the same order, as the tfjs gradients of the ops it replaces, so the numbers are the same bit for bit.
// LRN is the exception on two backends, where the same maths in another order is far faster (equal to
// float32 rounding): wasm's own LRN kernels (trainer/backend/wasm/lrn.ts) and, on native TensorFlow,
// the window sum as a band-matrix product (lrnAcrossChannelsByBand).
import * as tf from '@tensorflow/tfjs-core';

import { nativeReluGrad, onNativeBackend } from '../../backend/tensorflow-ops.js';
import { LrnAcrossChannels, LrnAcrossChannelsGrad } from '../../backend/wasm/custom_kernel_names.js';

/**
 * max(0, x); its gradient dy · step(y), which is tfjs's dy · step(x) since y > 0 exactly where x > 0 (on
 * the native backend as TensorFlow's one-pass ReluGrad, the same numbers).
 */
export const reluKeepingOutput = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const y = tf.relu(x);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, [top]: tf.Tensor[]) =>
      nativeReluGrad(dy, top!) ?? tf.mul(dy, tf.cast(tf.step(top!), 'float32')),
  };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * y + b for y (..., C) and b (C): tfjs's Add gradient without keeping y (dy for y; dy summed over every
 * axis but the last for b).
 */
export const addChannelBias = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [y, bias] = args as [tf.Tensor, tf.Tensor];
  const shape = y.shape;
  const biasShape = bias.shape;
  const outer = shape.slice(0, -1).map((_, i) => i);
  return {
    value: tf.add(y, bias),
    gradFunc: (dy: tf.Tensor) => [tf.reshape(dy, shape), tf.reshape(tf.sum(dy, outer), biasShape)],
  };
}) as (y: tf.Tensor, bias: tf.Tensor) => tf.Tensor;

export interface AcrossChannels {
  localSize: number;
  alpha: number;
  beta: number;
  k: number;
}

/**
 * Caffe's ACROSS_CHANNELS LRN, y = x · (k + alpha · mean over localSize channels of x²)^(-beta), NCHW,
 * keeping x and the scale for backward. The ops, forward and backward, are those of the plain tfjs
 * version in lrn.ts and of their tfjs gradients (Multiply, Pow, Add, Multiply, Reshape, AvgPool, PadV2,
 * Reshape, Square, and the two paths into x summed in the tape's order).
 */
export function lrnAcrossChannels(x: tf.Tensor4D, settings: AcrossChannels): tf.Tensor4D {
  // A backend with the whole LRN as one kernel each way (wasm: trainer/backend/wasm/lrn.ts) runs that:
  // the same arithmetic, equal to float rounding, without a dozen passes over the blob.
  if (tf.getKernel(LrnAcrossChannels, tf.getBackend()) !== undefined) return lrnByKernels(x, settings);
  // Native TensorFlow pools one channel slowly; its window sum is a matrix product there.
  if (onNativeBackend()) return lrnAcrossChannelsByBand(x, settings);
  const { localSize, alpha, beta, k } = settings;
  const [n, c, h, w] = x.shape;
  const half = (localSize - 1) / 2;
  const paddings: [number, number][] = [
    [0, 0],
    [half, half],
    [0, 0],
    [0, 0],
  ];
  const padSquares = (input: tf.Tensor) =>
    tf.pad(tf.reshape(tf.square(input), [n, c, h * w, 1]) as tf.Tensor4D, paddings);
  const normalize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const padded = padSquares(input);
    const meanOfSquares = tf.avgPool(padded, [localSize, 1], 1, 'valid');
    const scale = tf.add(tf.mul(tf.reshape(meanOfSquares, input.shape), alpha), k);
    save([input, scale]);
    return {
      value: tf.mul(input, tf.pow(scale, -beta)),
      gradFunc: (dy: tf.Tensor, [bottom, s]: tf.Tensor[]) => {
        const exponent = tf.scalar(-beta);
        const powered = tf.pow(s!, exponent);
        // y = bottom · powered
        const dxDirect = tf.mul(dy, tf.cast(powered, 'float32'));
        const dPowered = tf.mul(dy, tf.cast(bottom!, 'float32'));
        // powered = s ^ exponent
        const expFloat = tf.cast(exponent, 'float32');
        const dScale = tf.reshape(
          tf.mul(dPowered, tf.mul(expFloat, tf.pow(s!, tf.sub(expFloat, tf.scalar(1))))),
          s!.shape,
        );
        // s = alpha · mean + k, mean reshaped from the pooled (N, C, H·W, 1)
        const dMean = tf.reshape(tf.mul(dScale, tf.cast(tf.scalar(alpha), 'float32')), [n, c, h * w, 1]);
        const paddedInput = padSquares(bottom!);
        const dPadded = tf
          .engine()
          .runKernel(
            'AvgPoolGrad',
            { dy: dMean, input: paddedInput },
            { filterSize: [localSize, 1], strides: 1, pad: 'valid' },
          ) as tf.Tensor4D;
        const dSquares = tf.reshape(tf.slice(dPadded, [0, half, 0, 0], [n, c, h * w, 1]), bottom!.shape);
        const dxSquare = tf.mul(dSquares, tf.mul(tf.cast(bottom!, 'float32'), 2));
        return tf.add(dxDirect, dxSquare);
      },
    };
  }) as (input: tf.Tensor) => tf.Tensor;
  return normalize(x) as tf.Tensor4D;
}

/**
 * The same LRN with the channel window summed as a matrix product: a band matrix B (C × C, alpha / n
 * where |i − j| ≤ (n − 1) / 2) times each image's squares (C × H·W). TensorFlow's CPU kernels pool one
 * channel slowly (the AvgPool above pools each image's channels as one (C, H·W) plane), while a C × C
 * product is one oneDNN matrix call; the band's zeros add nothing, so each scale is the sum of the same
 * n squares as Caffe's, in another order. Backward is Caffe's (LRNLayer::CrossChannelBackward_cpu in
 * BVLC/caffe src/caffe/layers/lrn_layer.cpp), from what it keeps: bottom and scale, as Caffe's does.
 *   dx = dy · scale^(-beta) − 2·beta · x · (B · (dy · y / scale))
 */
export function lrnAcrossChannelsByBand(x: tf.Tensor4D, settings: AcrossChannels): tf.Tensor4D {
  const { localSize, alpha, beta, k } = settings;
  const [n, c, h, w] = x.shape;
  const half = (localSize - 1) / 2;
  const bandValues = new Float32Array(c * c);
  for (let i = 0; i < c; i++) {
    for (let j = Math.max(0, i - half); j <= Math.min(c - 1, i + half); j++)
      bandValues[i * c + j] = alpha / localSize;
  }
  const windowSum = (t: tf.Tensor, band: tf.Tensor3D) =>
    tf.reshape(tf.matMul(band, tf.reshape(t, [n, c, h * w]) as tf.Tensor3D), [n, c, h, w]);
  const normalize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const band = tf.tensor3d(bandValues, [1, c, c]);
    const scale = tf.add(windowSum(tf.square(input), band), k);
    save([input, scale, band]);
    return {
      value: tf.mul(input, tf.pow(scale, -beta)),
      gradFunc: (dy: tf.Tensor, [bottom, s, b]: tf.Tensor[]) => {
        const direct = tf.mul(dy, tf.pow(s!, -beta));
        // dy · top / scale, with top = bottom · scale^(-beta) made again rather than kept.
        const ratio = tf.div(tf.mul(direct, bottom!), s!);
        const spread = tf.mul(bottom!, windowSum(ratio, b as tf.Tensor3D));
        return tf.sub(direct, tf.mul(spread, 2 * beta));
      },
    };
  }) as (input: tf.Tensor) => tf.Tensor;
  return normalize(x) as tf.Tensor4D;
}

function lrnByKernels(x: tf.Tensor4D, settings: AcrossChannels): tf.Tensor4D {
  const attrs = { ...settings } as unknown as tf.NamedAttrMap;
  const normalize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const [y, scale] = tf.engine().runKernel(LrnAcrossChannels, { x: input }, attrs) as tf.Tensor[];
    save([input, scale!]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, [bottom, s]: tf.Tensor[]) =>
        tf.engine().runKernel(LrnAcrossChannelsGrad, { dy, x: bottom!, scale: s! }, attrs) as tf.Tensor,
    };
  }) as (input: tf.Tensor) => tf.Tensor;
  return normalize(x) as tf.Tensor4D;
}
