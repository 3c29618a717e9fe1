// Conv2DBackpropInput for the wasm backend, replacing its own kernel for stride 1, where that kernel is
// a plain loop about 8x slower than a forward convolution of the same size.
//
// With stride 1 the input gradient is a forward convolution of dY with the filter reversed in space and
// its in/out channels swapped, padded by (kernel - 1 - pad) on each side. Strided convolutions would
// need dY dilated with zeros first, wasting stride² work, so they keep the backend's own kernel.

import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { KernelScope, type WasmKernelArgs } from './kernel_scope.js';
import { stockWasmKernel, wasmKernel } from './originals.js';

export function conv2DBackpropInput(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
    attrs as unknown as Conv2DBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { filterHeight, filterWidth, padInfo } = info;
  const padTop = filterHeight - 1 - padInfo.top;
  const padBottom = filterHeight - 1 - padInfo.bottom;
  const padLeft = filterWidth - 1 - padInfo.left;
  const padRight = filterWidth - 1 - padInfo.right;
  const composable =
    dataFormat !== 'NCHW' &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    Math.min(padTop, padBottom, padLeft, padRight) >= 0;
  if (!composable) return stockWasmKernel(Conv2DBackpropInput)(args as never) as TensorInfo;

  return KernelScope.compose(backend, (scope) => {
    const swapped = scope.run(flipAndSwap as never, { filter });
    return scope.run(
      wasmKernel('Conv2D'),
      { x: dy, filter: swapped },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [padTop, padBottom],
          [padLeft, padRight],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      },
    );
  });
}

/**
 * The filter [kh, kw, in, out] reversed in space with its channels swapped, [kh, kw, out, in], in one
 * pass: the backend's Reverse alone took ~250 ms for conv3's 0.9M weights on 2 shared cores.
 */
function flipAndSwap({ inputs, backend }: WasmKernelArgs): TensorInfo {
  const { filter } = inputs as { filter: TensorInfo };
  const [height, width, inChannels, outChannels] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([height, width, outChannels, inChannels], 'float32');
  // Views are taken after allocating: growing the heap would detach earlier ones.
  const source = backend.typedArrayFromHeap(filter) as Float32Array;
  const target = backend.typedArrayFromHeap(out) as Float32Array;
  const plane = inChannels * outChannels;
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      const from = (i * width + j) * plane;
      const to = ((height - 1 - i) * width + (width - 1 - j)) * plane;
      for (let c = 0; c < inChannels; c++) {
        const row = from + c * outChannels;
        for (let o = 0; o < outChannels; o++) target[to + o * inChannels + c] = source[row + o]!;
      }
    }
  }
  return out;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as never,
};
