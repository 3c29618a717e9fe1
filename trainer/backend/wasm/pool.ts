// MaxPool and AvgPool for the wasm backend, fixing round-up pooling (dimRoundingMode 'ceil', which is
// how Caffe sizes its pooling outputs). The backend allocates the rounded-up output but tells XNNPACK
// only the symmetric padding, so XNNPACK computes one row/column fewer and the last one is left as
// uninitialised memory. We pass the extra padding on the far side explicitly; XNNPACK ignores padded
// cells for both max and average, as the pure-JS backend does.

import {
  AvgPool,
  type AvgPoolAttrs,
  backend_util,
  type KernelConfig,
  MaxPool,
  type MaxPoolAttrs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import type { WasmKernelArgs } from './kernel_scope.js';
import { stockWasmKernel } from './originals.js';

function roundUpSafe(kernelName: string) {
  return (args: WasmKernelArgs): TensorInfo => {
    const { inputs, attrs } = args;
    const { x } = inputs as { x: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolAttrs | AvgPoolAttrs;
    const original = stockWasmKernel(kernelName);
    if (dimRoundingMode !== 'ceil') return original(args as never) as TensorInfo;
    const info = backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const { padInfo } = info;
    const bottom = Math.max(
      padInfo.bottom,
      (info.outHeight - 1) * info.strideHeight + info.filterHeight - info.inHeight - padInfo.top,
    );
    const right = Math.max(
      padInfo.right,
      (info.outWidth - 1) * info.strideWidth + info.filterWidth - info.inWidth - padInfo.left,
    );
    const explicit = [
      [0, 0],
      [padInfo.top, bottom],
      [padInfo.left, right],
      [0, 0],
    ];
    return original({ ...args, attrs: { filterSize, strides, pad: explicit } } as never) as TensorInfo;
  };
}

export const maxPoolConfig: KernelConfig = {
  kernelName: MaxPool,
  backendName: 'wasm',
  kernelFunc: roundUpSafe(MaxPool) as never,
};

export const avgPoolConfig: KernelConfig = {
  kernelName: AvgPool,
  backendName: 'wasm',
  kernelFunc: roundUpSafe(AvgPool) as never,
};
