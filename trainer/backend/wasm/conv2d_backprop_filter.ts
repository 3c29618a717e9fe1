// Conv2DBackpropFilter for the wasm backend, which has none: tfjs-backend-wasm cannot train a
// convolution without it.
//
// The filter gradient dW[i,j,c,o] = sum over n,y,x of X[n, y*s + i - pad, x*s + j - pad, c] * dY[n,y,x,o]
// is itself a forward convolution: take X transposed to [C, H, W, N] as the "batch of C images with
// N channels" and dY transposed to [Ho, Wo, N, O] as the "filter"; a stride-1 convolution with dilation
// equal to the original stride then yields [C, kh', kw', O], which is cropped to the kernel size and
// transposed back to [kh, kw, C, O]. XNNPACK's convolution does the work.
//
// That "filter" is as large as dY, and the transposed copy plus XNNPACK's packed copy of it triple
// dY's footprint: a 64x256x256x64 dY (1 GiB) no longer fits the 4 GiB heap. When the scratch would
// exceed the budget (scratch_budget.ts), the sum over output rows y is split into bands of rows, each
// a convolution of the X rows it reads (with the padding that falls in it) by its rows of dY, and the
// bands' gradients are added up. Bands keep the batch as XNNPACK's channel count: splitting the batch
// instead would shrink it and run ~2-3x slower. Work within the budget runs in one piece, as before.

import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { KernelScope, type WasmKernelArgs } from './kernel_scope.js';
import { wasmKernel } from './originals.js';
import { getScratchBudget, splitRuns } from './scratch_budget.js';

/** XNNPACK packs a convolution's output channels in groups of up to 8 (padding the last one). */
const packedChannelGroup = 8;

type Band = { xTop: number; xRows: number; padTop: number; padBottom: number; dyTop: number; dyRows: number };

export function conv2DBackpropFilter({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as Conv2DBackpropFilterAttrs;
  if (dataFormat === 'NCHW') {
    throw new Error('Conv2DBackpropFilter on wasm: expected dataFormat NHWC, received NCHW');
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { filterHeight, filterWidth, inHeight, inWidth, outChannels } = info;
  const { outHeight, outWidth, strideHeight, strideWidth, padInfo } = info;
  // Pad the far side only as much as the last kernel row/column needs; any excess is cropped.
  const padBottom = Math.max(0, filterHeight + (outHeight - 1) * strideHeight - inHeight - padInfo.top);
  const padRight = Math.max(0, filterWidth + (outWidth - 1) * strideWidth - inWidth - padInfo.left);
  const convolve = (
    scope: KernelScope,
    images: TensorInfo,
    kernel: TensorInfo,
    top: number,
    bottom: number,
  ) =>
    scope.run(
      wasmKernel('Conv2D'),
      { x: images, filter: kernel },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [top, bottom],
          [padInfo.left, padRight],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [strideHeight, strideWidth],
      },
    );
  const transpose = (scope: KernelScope, t: TensorInfo, perm: number[]) =>
    scope.run(wasmKernel('Transpose'), { x: t }, { perm });
  const bands = rowBands(info, padBottom, getScratchBudget());

  return KernelScope.compose(backend, (scope) => {
    let sum: TensorInfo | undefined;
    if (bands === undefined) {
      const images = transpose(scope, x, [3, 1, 2, 0]);
      const kernel = transpose(scope, dy, [1, 2, 0, 3]);
      sum = convolve(scope, images, kernel, padInfo.top, padBottom);
    }
    for (const band of bands ?? []) {
      // Slices and transposes are let go as soon as used, so one band's scratch is alive at a time.
      const xRows = scope.run(sliceRows as never, { x }, { top: band.xTop, count: band.xRows });
      const images = transpose(scope, xRows, [3, 1, 2, 0]);
      scope.free(xRows);
      const dyRows = scope.run(sliceRows as never, { x: dy }, { top: band.dyTop, count: band.dyRows });
      const kernel = transpose(scope, dyRows, [1, 2, 0, 3]);
      scope.free(dyRows);
      const part = convolve(scope, images, kernel, band.padTop, band.padBottom);
      // Freeing the "filter" also frees XNNPACK's packed copy of it.
      scope.free(images, kernel);
      if (sum === undefined) {
        sum = part;
      } else {
        const total = scope.run(wasmKernel('Add'), { a: sum, b: part });
        scope.free(sum, part);
        sum = total;
      }
    }
    let grad = sum!;
    const [channels, height, width] = grad.shape as [number, number, number, number];
    if (height !== filterHeight || width !== filterWidth) {
      grad = scope.run(
        wasmKernel('Slice'),
        { x: grad },
        { begin: [0, 0, 0, 0], size: [channels, filterHeight, filterWidth, outChannels] },
      );
    }
    return transpose(scope, grad, [1, 2, 0, 3]);
  });
}

/**
 * The bands of output rows to work in, or undefined when the whole gradient fits the budget in one
 * piece. Band rows are in dY; each takes the X rows its windows read, rows of padding where they
 * fall outside X, so every band's convolution yields exactly `filterHeight` rows.
 */
export function rowBands(
  info: backend_util.Conv2DInfo,
  padBottom: number,
  budget: number,
): Band[] | undefined {
  const { batchSize, filterHeight, inHeight, inWidth, inChannels, outWidth, outChannels, strideHeight } =
    info;
  const packedChannels = Math.ceil(outChannels / packedChannelGroup) * packedChannelGroup;
  // Per dY row: its slice, its transpose and XNNPACK's packing; the X rows under it, sliced and transposed.
  const dyRowBytes = 4 * batchSize * outWidth * (2 * outChannels + packedChannels);
  const xRowBytes = 4 * batchSize * inWidth * inChannels * 2;
  const wholeBytes = info.outHeight * dyRowBytes + (inHeight + info.padInfo.top + padBottom) * xRowBytes;
  if (wholeBytes <= budget) return undefined;
  const perRow = dyRowBytes + strideHeight * xRowBytes;
  const halo = Math.max(0, filterHeight - strideHeight) * xRowBytes;
  const bands = splitRuns(info.outHeight, perRow, Math.max(0, budget - halo)).map(([dyTop, dyRows]) => {
    // Padded-input rows read by this band, in X's coordinates (negative or past the end: padding).
    const first = dyTop * strideHeight - info.padInfo.top;
    const last = (dyTop + dyRows - 1) * strideHeight + filterHeight - 1 - info.padInfo.top;
    const xTop = Math.max(0, first);
    const xEnd = Math.min(inHeight - 1, last);
    return { xTop, xRows: xEnd - xTop + 1, padTop: xTop - first, padBottom: last - xEnd, dyTop, dyRows };
  });
  // A band reading padding only adds nothing (and cannot be sliced); if all do, go in one piece.
  const useful = bands.filter((band) => band.xRows > 0);
  return useful.length > 0 ? useful : undefined;
}

/**
 * Rows [top, top + count) of every image of an NHWC float32 tensor. Each image's rows are one
 * contiguous block, so this is a copy per image; the backend's Slice walks every element instead
 * (~20 ns each, more than the convolution itself on a large dY).
 */
function sliceRows({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { x } = inputs as { x: TensorInfo };
  const { top, count } = attrs as { top: number; count: number };
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const out = backend.makeOutput([batch, count, width, channels], 'float32');
  // Views are taken after allocating: growing the heap would detach earlier ones.
  const source = backend.typedArrayFromHeap(x) as Float32Array;
  const target = backend.typedArrayFromHeap(out) as Float32Array;
  const rowSize = width * channels;
  for (let n = 0; n < batch; n++) {
    const from = (n * height + top) * rowSize;
    target.set(source.subarray(from, from + count * rowSize), n * count * rowSize);
  }
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as never,
};
