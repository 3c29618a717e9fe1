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

type Window = { rowStart: number; rowEnd: number; colStart: number; colEnd: number };

export function maxPoolGrad({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  const info = poolInfo(input, filterSize, strides, pad, dimRoundingMode);
  const dx = backend.makeOutput(input.shape, 'float32');
  // Views are taken after allocating: growing the heap would detach earlier ones.
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const out = backend.typedArrayFromHeap(dx) as Float32Array;
  out.fill(0);
  const { inHeight, inWidth, inChannels: channels } = info;
  const best = new Float32Array(channels);
  const bestAt = new Int32Array(channels);
  let gradAt = 0;
  for (let n = 0; n < info.batchSize; n++) {
    const imageBase = n * inHeight * inWidth * channels;
    for (let oy = 0; oy < info.outHeight; oy++) {
      for (let ox = 0; ox < info.outWidth; ox++, gradAt += channels) {
        const w = windowAt(info, oy, ox);
        best.fill(Number.NEGATIVE_INFINITY);
        bestAt.fill(-1);
        for (let y = w.rowStart; y < w.rowEnd; y += info.dilationHeight) {
          for (let xx = w.colStart; xx < w.colEnd; xx += info.dilationWidth) {
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
  return dx;
}

export function avgPoolGrad({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad } = attrs as unknown as AvgPoolGradAttrs;
  const info = poolInfo(input, filterSize, strides, pad, undefined);
  const dx = backend.makeOutput(input.shape, 'float32');
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const out = backend.typedArrayFromHeap(dx) as Float32Array;
  out.fill(0);
  const { inHeight, inWidth, inChannels: channels } = info;
  const scale = 1 / (info.filterHeight * info.filterWidth);
  let gradAt = 0;
  for (let n = 0; n < info.batchSize; n++) {
    const imageBase = n * inHeight * inWidth * channels;
    for (let oy = 0; oy < info.outHeight; oy++) {
      for (let ox = 0; ox < info.outWidth; ox++, gradAt += channels) {
        const w = windowAt(info, oy, ox);
        for (let y = w.rowStart; y < w.rowEnd; y += info.dilationHeight) {
          for (let xx = w.colStart; xx < w.colEnd; xx += info.dilationWidth) {
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

/** The in-bounds rows and columns of the input window under output cell (oy, ox). */
function windowAt(info: backend_util.Conv2DInfo, oy: number, ox: number): Window {
  const top = oy * info.strideHeight - info.padInfo.top;
  const left = ox * info.strideWidth - info.padInfo.left;
  const dh = info.dilationHeight;
  const dw = info.dilationWidth;
  // Skip whole dilation steps that fall above/left of the input, so the loop stays on the grid.
  const rowStart = top < 0 ? top + Math.ceil(-top / dh) * dh : top;
  const colStart = left < 0 ? left + Math.ceil(-left / dw) * dw : left;
  return {
    rowStart,
    rowEnd: Math.min(info.inHeight, top + info.effectiveFilterHeight),
    colStart,
    colEnd: Math.min(info.inWidth, left + info.effectiveFilterWidth),
  };
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
