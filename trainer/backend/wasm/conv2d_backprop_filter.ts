// Conv2DBackpropFilter for the wasm backend, which has none: tfjs-backend-wasm cannot train a
// convolution without it.
//
// The filter gradient dW[i,j,c,o] = sum over n,y,x of X[n, y*s + i - pad, x*s + j - pad, c] * dY[n,y,x,o]
// is itself a forward convolution: take X transposed to [C, H, W, N] as the "batch of C images with
// N channels" and dY transposed to [Ho, Wo, N, O] as the "filter"; a stride-1 convolution with dilation
// equal to the original stride then yields [C, kh', kw', O], which is cropped to the kernel size and
// transposed back to [kh, kw, C, O]. XNNPACK's convolution does the work.

import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { KernelScope, type WasmKernelArgs } from './kernel_scope.js';
import { wasmKernel } from './originals.js';

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
  const { filterHeight, filterWidth, inHeight, inWidth, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, padInfo } = info;
  // Pad the far side only as much as the last kernel row/column needs; any excess is cropped.
  const padBottom = Math.max(0, filterHeight + (outHeight - 1) * strideHeight - inHeight - padInfo.top);
  const padRight = Math.max(0, filterWidth + (outWidth - 1) * strideWidth - inWidth - padInfo.left);

  return KernelScope.compose(backend, (scope) => {
    const images = scope.run(wasmKernel('Transpose'), { x }, { perm: [3, 1, 2, 0] });
    const kernel = scope.run(wasmKernel('Transpose'), { x: dy }, { perm: [1, 2, 0, 3] });
    let grad = scope.run(
      wasmKernel('Conv2D'),
      { x: images, filter: kernel },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [padInfo.top, padBottom],
          [padInfo.left, padRight],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [strideHeight, strideWidth],
      },
    );
    const [channels, height, width, outChannels] = grad.shape as [number, number, number, number];
    if (height !== filterHeight || width !== filterWidth) {
      grad = scope.run(
        wasmKernel('Slice'),
        { x: grad },
        { begin: [0, 0, 0, 0], size: [channels, filterHeight, filterWidth, outChannels] },
      );
    }
    return scope.run(wasmKernel('Transpose'), { x: grad }, { perm: [1, 2, 0, 3] });
  });
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as never,
};
