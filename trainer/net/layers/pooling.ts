// Pooling: MAX or AVE over NCHW blobs, with Caffe's window placement. The output size comes from the net
// spec (Caffe's round-up rule with its clip); here the input is padded explicitly so that tf's 'valid'
// pooling produces exactly that size, and AVE is rescaled to Caffe's divisor.
import * as tf from '@tensorflow/tfjs-core';

import { onNativeBackend } from '../../backend/tensorflow-ops.js';
import { BadInputError } from '../../contract/errors.js';
import type { PoolingParameter } from '../../proto/messages.js';
import { PoolMethod } from '../../proto/messages.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { enumValue, nonNegativeInt, unsupported } from './params.js';
import { registerLayer } from './registry.js';

/** One spatial axis of a pooling: input size, kernel, stride, pad and the spec's output size. */
export interface PoolAxis {
  input: number;
  kernel: number;
  stride: number;
  pad: number;
  output: number;
}

export class PoolingLayer extends Layer {
  readonly method: number;
  readonly rows: PoolAxis;
  readonly cols: PoolAxis;
  /** AVE only: k·k / Caffe's per-window divisor, shape (1, outH, outW, 1). */
  private readonly aveRescale: tf.Tensor4D | undefined;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const param = spec.param.poolingParam ?? {};
    this.method = enumValue(param.pool, PoolMethod.MAX, PoolMethod, 'pooling_param.pool', this.where);
    if (this.method === PoolMethod.STOCHASTIC) unsupported('pooling_param.pool', 'STOCHASTIC', this.where);
    const input = this.bottomShape(0);
    const output = this.topShape(0);
    if (input.length !== 4 || output.length !== 4) {
      unsupported('pooling input', `a ${input.length}-axis blob (only NCHW)`, this.where);
    }
    const window = readPoolWindow(param, input[2]!, input[3]!, this.where);
    this.rows = { input: input[2]!, ...window.rows, output: output[2]! };
    this.cols = { input: input[3]!, ...window.cols, output: output[3]! };
    this.aveRescale = this.method === PoolMethod.AVE ? aveRescale(this.rows, this.cols) : undefined;
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    const [n, c, h, w] = x!.shape as [number, number, number, number];
    if (h !== this.rows.input || w !== this.cols.input) {
      throw new Error(
        `${this.where}: expected a ${this.rows.input}x${this.cols.input} input, received ${h}x${w}`,
      );
    }
    // tf pools NHWC. On wasm each (n, c) plane pools alone: (N, C, H, W) → (N·C, H, W, 1) is a free
    // reshape, and our wasm pooling kernels have a fast path for one channel. TensorFlow's CPU kernels
    // vectorise over channels and are slow on one (pool1 of CaffeNet: 43 ms against 7 ms at batch 10), so
    // on the native backend the blob is transposed to (N, H, W, C) and back, which costs less.
    if (onNativeBackend()) return [this.poolChannelsLast(x as tf.Tensor4D)];
    const planes = tf.reshape(x!, [n * c, h, w, 1]) as tf.Tensor4D;
    return [tf.reshape(this.poolImages(planes), [n, c, this.rows.output, this.cols.output])];
  }

  /** Pools NHWC images with Caffe's windows: padded to them, tf's 'valid' pooling, AVE rescaled. */
  private poolImages(images: tf.Tensor4D): tf.Tensor4D {
    const padded = this.padded(images);
    let y =
      this.method === PoolMethod.MAX
        ? tf.maxPool(padded, this.kernel, this.stride, 'valid')
        : tf.avgPool(padded, this.kernel, this.stride, 'valid');
    if (this.aveRescale) y = tf.mul(y, this.aveRescale);
    return y;
  }

  // Caffe compat: MAX ignores padded cells, which -Infinity padding reproduces; AVE pads with zeros.
  private padded(images: tf.Tensor4D): tf.Tensor4D {
    const fill = this.method === PoolMethod.MAX ? Number.NEGATIVE_INFINITY : 0;
    return padToWindows(images, this.rows, this.cols, fill);
  }

  private get kernel(): [number, number] {
    return [this.rows.kernel, this.cols.kernel];
  }

  private get stride(): [number, number] {
    return [this.rows.stride, this.cols.stride];
  }

  /**
   * The native path, keeping for backward only its NCHW bottom and top (which the layers around it keep
   * anyway), not the NHWC copies tf's pooling gradient would keep: at batch 256 those were 650 MB for
   * CaffeNet. Backward makes them again and calls the same gradient kernels tf's gradient calls.
   */
  private poolChannelsLast(x: tf.Tensor4D): tf.Tensor4D {
    const toNHWC = (t: tf.Tensor) => tf.transpose(t, [0, 2, 3, 1]) as tf.Tensor4D;
    const pool = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [bottom, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
      const top = tf.transpose(this.poolImages(toNHWC(bottom)), [0, 3, 1, 2]);
      save([bottom, top]);
      return {
        value: top,
        gradFunc: (dy: tf.Tensor, [savedBottom, savedTop]: tf.Tensor[]) => {
          const padded = this.padded(toNHWC(savedBottom!));
          const attrs = { filterSize: this.kernel, strides: this.stride, pad: 'valid' };
          let dTop = toNHWC(dy);
          let dPadded: tf.Tensor4D;
          if (this.method === PoolMethod.MAX) {
            const inputs = { dy: dTop, input: padded, output: toNHWC(savedTop!) };
            dPadded = tf.engine().runKernel('MaxPoolGrad', inputs, attrs) as tf.Tensor4D;
          } else {
            if (this.aveRescale) dTop = tf.mul(dTop, this.aveRescale);
            dPadded = tf.engine().runKernel('AvgPoolGrad', { dy: dTop, input: padded }, attrs) as tf.Tensor4D;
          }
          return tf.transpose(unpadFromWindows(dPadded, this.rows, this.cols), [0, 3, 1, 2]);
        },
      };
    }) as (bottom: tf.Tensor) => tf.Tensor;
    return pool(x) as tf.Tensor4D;
  }

  override dispose(): void {
    super.dispose();
    this.aveRescale?.dispose();
  }
}

/** Kernel, stride and pad per axis, checked as Caffe checks them; global pooling covers the whole input. */
export function readPoolWindow(
  param: PoolingParameter,
  height: number,
  width: number,
  where: string,
): { rows: Omit<PoolAxis, 'input' | 'output'>; cols: Omit<PoolAxis, 'input' | 'output'> } {
  const hasKernel =
    param.kernelSize !== undefined || param.kernelH !== undefined || param.kernelW !== undefined;
  let kernel: [number, number];
  if (param.globalPooling) {
    if (hasKernel) {
      throw new BadInputError(
        'pooling_param: global_pooling takes the whole input; expected no kernel size',
        where,
      );
    }
    kernel = [height, width];
  } else {
    kernel = pairOf(
      param.kernelSize,
      param.kernelH,
      param.kernelW,
      undefined,
      'kernel_size',
      'kernel',
      where,
    );
    for (const k of kernel) {
      if (!Number.isInteger(k) || k <= 0) {
        throw new BadInputError(
          `pooling_param.kernel_size: expected a positive integer, received ${k}`,
          where,
        );
      }
    }
  }
  const pad = pairOf(param.pad, param.padH, param.padW, 0, 'pad', 'pad', where);
  const stride = pairOf(param.stride, param.strideH, param.strideW, 1, 'stride', 'stride', where);
  for (const p of pad) nonNegativeInt(p, 0, 'pooling_param.pad', where);
  for (const s of stride) {
    if (!Number.isInteger(s) || s <= 0) {
      throw new BadInputError(`pooling_param.stride: expected a positive integer, received ${s}`, where);
    }
  }
  if (param.globalPooling && (pad[0] !== 0 || pad[1] !== 0 || stride[0] !== 1 || stride[1] !== 1)) {
    throw new BadInputError('pooling_param: global_pooling needs pad 0 and stride 1', where);
  }
  for (const i of [0, 1]) {
    if (pad[i]! >= kernel[i]!) {
      throw new BadInputError(
        `pooling_param.pad: expected less than the kernel size ${kernel[i]}, received ${pad[i]}`,
        where,
      );
    }
  }
  return {
    rows: { kernel: kernel[0], stride: stride[0], pad: pad[0] },
    cols: { kernel: kernel[1], stride: stride[1], pad: pad[1] },
  };
}

/**
 * Pads (or trims) each NHWC image so its extent is exactly (output - 1)·stride + kernel from -pad on: then tf's
 * 'valid' pooling yields the spec's output size with Caffe's window positions.
 */
function padToWindows(images: tf.Tensor4D, rows: PoolAxis, cols: PoolAxis, value: number): tf.Tensor4D {
  const rowsAfter = paddingAfter(rows);
  const colsAfter = paddingAfter(cols);
  let padded = images;
  if (rows.pad > 0 || cols.pad > 0 || rowsAfter > 0 || colsAfter > 0) {
    padded = tf.pad(
      images,
      [
        [0, 0],
        [rows.pad, Math.max(0, rowsAfter)],
        [cols.pad, Math.max(0, colsAfter)],
        [0, 0],
      ],
      value,
    );
  }
  if (rowsAfter < 0 || colsAfter < 0) {
    const [n, h, w, c] = padded.shape;
    padded = tf.slice(padded, [0, 0, 0, 0], [n, h + Math.min(0, rowsAfter), w + Math.min(0, colsAfter), c]);
  }
  return padded;
}

/** Cells the windows reach past the input's end (negative: input cells no window reaches). */
function paddingAfter(axis: PoolAxis): number {
  return (axis.output - 1) * axis.stride + axis.kernel - axis.input - axis.pad;
}

/** The gradient of padToWindows: zeros for what it trimmed, the padding's cells dropped. */
function unpadFromWindows(dPadded: tf.Tensor4D, rows: PoolAxis, cols: PoolAxis): tf.Tensor4D {
  const trimmedRows = Math.max(0, -paddingAfter(rows));
  const trimmedCols = Math.max(0, -paddingAfter(cols));
  let d = dPadded;
  if (trimmedRows > 0 || trimmedCols > 0) {
    d = tf.pad(d, [
      [0, 0],
      [0, trimmedRows],
      [0, trimmedCols],
      [0, 0],
    ]);
  }
  const [n, , , c] = d.shape;
  return tf.slice(d, [0, rows.pad, cols.pad, 0], [n, rows.input, cols.input, c]);
}

/**
 * Caffe compat: AVE divides each window's sum by the window's area clipped to the padded input [-pad, in + pad),
 * not by kernel² (tf) nor by the cells inside the image. tf's 'valid' avgPool on our explicitly padded input
 * divides by kernel², so its result is multiplied by kernel² / Caffe's divisor.
 */
function aveRescale(rows: PoolAxis, cols: PoolAxis): tf.Tensor4D {
  const rowSpan = windowSpans(rows);
  const colSpan = windowSpans(cols);
  const values = new Float32Array(rows.output * cols.output);
  for (let r = 0; r < rows.output; r++) {
    for (let c = 0; c < cols.output; c++) {
      values[r * cols.output + c] = (rows.kernel * cols.kernel) / (rowSpan[r]! * colSpan[c]!);
    }
  }
  return tf.tensor4d(values, [1, rows.output, cols.output, 1]);
}

/** For each output position, the length of its window clipped to [-pad, input + pad). */
function windowSpans(axis: PoolAxis): number[] {
  const spans: number[] = [];
  for (let o = 0; o < axis.output; o++) {
    const start = o * axis.stride - axis.pad;
    const end = Math.min(start + axis.kernel, axis.input + axis.pad);
    spans.push(end - start);
  }
  return spans;
}

function pairOf(
  single: number | undefined,
  h: number | undefined,
  w: number | undefined,
  fallback: number | undefined,
  field: string,
  name: string,
  where: string,
): [number, number] {
  if (h !== undefined || w !== undefined) {
    if (single !== undefined) {
      throw new BadInputError(
        `pooling_param: expected either ${field} or ${name}_h and ${name}_w, received both`,
        where,
      );
    }
    if (h === undefined || w === undefined) {
      throw new BadInputError(`pooling_param: ${name}_h and ${name}_w must be given together`, where);
    }
    return [h, w];
  }
  const v = single ?? fallback;
  if (v === undefined)
    throw new BadInputError(`pooling_param.${field}: expected a positive integer, received nothing`, where);
  return [v, v];
}

registerLayer('Pooling', (spec) => new PoolingLayer(spec));
