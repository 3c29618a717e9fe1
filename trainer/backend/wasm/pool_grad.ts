// MaxPoolGrad and AvgPoolGrad for the wasm backend, in JavaScript over the wasm heap. The backend's own
// C loops run ~40x slower than the forward pooling; these walk each window once with the channel
// dimension innermost (NHWC), which is contiguous in memory.
//
// Semantics follow the pure-JS backend, which is the reference: MaxPoolGrad routes each output's
// gradient to the first maximum of its window (row-major order); AvgPoolGrad spreads it evenly over
// the in-bounds cells of the window, each weighted 1 / (filter height x filter width).

import {
  AvgPoolGrad,
  type AvgPoolGradAttrs,
  backend_util,
  type KernelConfig,
  MaxPoolGrad,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import type { WasmKernelArgs } from './kernel_scope.js';

export function maxPoolGrad({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { dy, input, output } = inputs as { dy: TensorInfo; input: TensorInfo; output?: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  const info = poolInfo(input, filterSize, strides, pad, dimRoundingMode);
  const dx = backend.makeOutput(input.shape, 'float32');
  // Views are taken after allocating: growing the heap would detach earlier ones.
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const out = backend.typedArrayFromHeap(dx) as Float32Array;
  // The forward's maxima, when given with dy's shape (tfjs's MaxPool gradient passes them).
  const maxima =
    output !== undefined && output.dtype === 'float32' && output.shape.join() === dy.shape.join()
      ? (backend.typedArrayFromHeap(output) as Float32Array)
      : undefined;
  out.fill(0);
  if (info.inChannels === 1) maxPoolGradPlanes(info, x, g, out, maxima);
  else maxPoolGradChannels(info, x, g, out);
  return dx;
}

/**
 * One channel (how our Pooling layer calls it: every (n, c) plane as its own image). With the forward's
 * maxima, each window is scanned for the first cell equal to its maximum and left there: the same cell
 * as a scan for the first maximum (row-major), with one unpredictable branch per window instead of one
 * per cell (pool1 at batch 10: ~22 ms instead of ~40 in a JS loop). A window where no cell equals the
 * given maximum (an inconsistent `output`) falls back to the full scan.
 */
function maxPoolGradPlanes(
  info: backend_util.Conv2DInfo,
  x: Float32Array,
  g: Float32Array,
  out: Float32Array,
  maxima: Float32Array | undefined,
) {
  const { inHeight, inWidth, outHeight, outWidth, dilationHeight, dilationWidth } = info;
  const rows = windowRows(info);
  const cols = windowCols(info);
  const undilated = dilationHeight === 1 && dilationWidth === 1;
  let gradAt = 0;
  for (let n = 0; n < info.batchSize; n++) {
    const plane = n * inHeight * inWidth;
    for (let oy = 0; oy < outHeight; oy++) {
      const rowStart = rows.start[oy]!;
      const rowEnd = rows.end[oy]!;
      for (let ox = 0; ox < outWidth; ox++, gradAt++) {
        const colStart = cols.start[ox]!;
        const colEnd = cols.end[ox]!;
        let bestAt = -1;
        if (maxima !== undefined && undilated) {
          const m = maxima[gradAt]!;
          found: for (let row = plane + rowStart * inWidth; row < plane + rowEnd * inWidth; row += inWidth) {
            for (let at = row + colStart; at < row + colEnd; at++) {
              if (x[at] === m) {
                bestAt = at;
                break found;
              }
            }
          }
        } else if (maxima !== undefined) {
          const m = maxima[gradAt]!;
          found: for (let y = rowStart; y < rowEnd; y += dilationHeight) {
            const row = plane + y * inWidth;
            for (let xx = colStart; xx < colEnd; xx += dilationWidth) {
              if (x[row + xx] === m) {
                bestAt = row + xx;
                break found;
              }
            }
          }
        }
        if (bestAt < 0) {
          let best = Number.NEGATIVE_INFINITY;
          for (let y = rowStart; y < rowEnd; y += dilationHeight) {
            const row = plane + y * inWidth;
            for (let xx = colStart; xx < colEnd; xx += dilationWidth) {
              const v = x[row + xx]!;
              if (v > best) {
                best = v;
                bestAt = row + xx;
              }
            }
          }
        }
        if (bestAt >= 0) out[bestAt]! += g[gradAt]!;
      }
    }
  }
}

/** Several channels (NHWC): each window walked once, channels innermost (contiguous in memory). */
function maxPoolGradChannels(
  info: backend_util.Conv2DInfo,
  x: Float32Array,
  g: Float32Array,
  out: Float32Array,
) {
  const { inHeight, inWidth, inChannels: channels, dilationHeight, dilationWidth } = info;
  const rows = windowRows(info);
  const cols = windowCols(info);
  const best = new Float32Array(channels);
  const bestAt = new Int32Array(channels);
  let gradAt = 0;
  for (let n = 0; n < info.batchSize; n++) {
    const imageBase = n * inHeight * inWidth * channels;
    for (let oy = 0; oy < info.outHeight; oy++) {
      for (let ox = 0; ox < info.outWidth; ox++, gradAt += channels) {
        best.fill(Number.NEGATIVE_INFINITY);
        bestAt.fill(-1);
        for (let y = rows.start[oy]!; y < rows.end[oy]!; y += dilationHeight) {
          for (let xx = cols.start[ox]!; xx < cols.end[ox]!; xx += dilationWidth) {
            const base = imageBase + (y * inWidth + xx) * channels;
            for (let c = 0; c < channels; c++) {
              const v = x[base + c]!;
              if (v > best[c]!) {
                best[c] = v;
                bestAt[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < channels; c++) {
          const at = bestAt[c]!;
          if (at >= 0) out[at]! += g[gradAt + c]!;
        }
      }
    }
  }
}

export function avgPoolGrad({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad } = attrs as unknown as AvgPoolGradAttrs;
  const info = poolInfo(input, filterSize, strides, pad, undefined);
  const dx = backend.makeOutput(input.shape, 'float32');
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const out = backend.typedArrayFromHeap(dx) as Float32Array;
  out.fill(0);
  const { inHeight, inWidth, inChannels: channels, dilationHeight, dilationWidth } = info;
  const rows = windowRows(info);
  const cols = windowCols(info);
  const scale = 1 / (info.filterHeight * info.filterWidth);
  let gradAt = 0;
  for (let n = 0; n < info.batchSize; n++) {
    const imageBase = n * inHeight * inWidth * channels;
    for (let oy = 0; oy < info.outHeight; oy++) {
      const rowStart = rows.start[oy]!;
      const rowEnd = rows.end[oy]!;
      for (let ox = 0; ox < info.outWidth; ox++, gradAt += channels) {
        const colStart = cols.start[ox]!;
        const colEnd = cols.end[ox]!;
        if (channels === 1) {
          const share = g[gradAt]! * scale;
          for (let y = rowStart; y < rowEnd; y += dilationHeight) {
            const row = imageBase + y * inWidth;
            for (let xx = colStart; xx < colEnd; xx += dilationWidth) out[row + xx]! += share;
          }
          continue;
        }
        for (let y = rowStart; y < rowEnd; y += dilationHeight) {
          for (let xx = colStart; xx < colEnd; xx += dilationWidth) {
            const base = imageBase + (y * inWidth + xx) * channels;
            for (let c = 0; c < channels; c++) out[base + c]! += g[gradAt + c]! * scale;
          }
        }
      }
    }
  }
  return dx;
}

function poolInfo(
  input: TensorInfo,
  filterSize: MaxPoolGradAttrs['filterSize'],
  strides: MaxPoolGradAttrs['strides'],
  pad: MaxPoolGradAttrs['pad'],
  dimRoundingMode: MaxPoolGradAttrs['dimRoundingMode'],
): backend_util.Conv2DInfo {
  if (input.dtype !== 'float32') {
    throw new Error(`pooling gradient on wasm: expected a float32 input, received ${input.dtype}`);
  }
  return backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
}

type Span = { start: Int32Array; end: Int32Array };

/** For each output row: the in-bounds input rows [start, end) its window reads. */
function windowRows(info: backend_util.Conv2DInfo): Span {
  return spans(
    info.outHeight,
    info.strideHeight,
    info.padInfo.top,
    info.dilationHeight,
    info.effectiveFilterHeight,
    info.inHeight,
  );
}

/** For each output column: the in-bounds input columns [start, end) its window reads. */
function windowCols(info: backend_util.Conv2DInfo): Span {
  return spans(
    info.outWidth,
    info.strideWidth,
    info.padInfo.left,
    info.dilationWidth,
    info.effectiveFilterWidth,
    info.inWidth,
  );
}

function spans(
  outputs: number,
  stride: number,
  padBefore: number,
  dilation: number,
  extent: number,
  size: number,
): Span {
  const start = new Int32Array(outputs);
  const end = new Int32Array(outputs);
  for (let o = 0; o < outputs; o++) {
    const first = o * stride - padBefore;
    // Skip whole dilation steps that fall before the input, so the loop stays on the grid.
    start[o] = first < 0 ? first + Math.ceil(-first / dilation) * dilation : first;
    end[o] = Math.min(size, first + extent);
  }
  return { start, end };
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as never,
};

export const avgPoolGradConfig: KernelConfig = {
  kernelName: AvgPoolGrad,
  backendName: 'wasm',
  kernelFunc: avgPoolGrad as never,
};
