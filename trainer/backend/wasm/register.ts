// Registers the kernels that make tfjs-backend-wasm able to train our layers, and the faster
// replacements for its slow backward kernels. Call after the wasm backend is initialised: the
// backend's own kernels run their set-up when it starts, so we capture them then, not before.

import { type KernelConfig, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';

import { batchMatMulConfig } from './batch_mat_mul.js';
import { conv2DBackpropFilterConfig } from './conv2d_backprop_filter.js';
import { conv2DBackpropInputConfig } from './conv2d_backprop_input.js';
import { identityConfig, transposeConfig } from './copies.js';
import { lrnAcrossChannelsConfig, lrnAcrossChannelsGradConfig } from './lrn.js';
import { captureWasmKernel } from './originals.js';
import { avgPoolConfig, maxPoolConfig } from './pool.js';
import { avgPoolGradConfig, maxPoolGradConfig } from './pool_grad.js';
import { sliceConfig } from './slice.js';
import { unsortedSegmentSumConfig } from './unsorted_segment_sum.js';

/** Kernels tfjs-backend-wasm 4.22 lacks that training needs, and our own fused ones (custom_kernel_names.ts). */
export const addedKernels: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  unsortedSegmentSumConfig,
  lrnAcrossChannelsConfig,
  lrnAcrossChannelsGradConfig,
];

/** The backend's own kernels we replace with faster or fixed ones (each may fall back to the original). */
export const replacedKernels: readonly KernelConfig[] = [
  identityConfig,
  transposeConfig,
  sliceConfig,
  maxPoolConfig,
  avgPoolConfig,
  conv2DBackpropInputConfig,
  batchMatMulConfig,
  maxPoolGradConfig,
  avgPoolGradConfig,
];

let registered = false;

/** Idempotent: registers everything once per process. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const config of replacedKernels) {
    captureWasmKernel(config.kernelName);
    unregisterKernel(config.kernelName, 'wasm');
    registerKernel(config);
  }
  for (const config of addedKernels) registerKernel(config);
  registered = true;
}
