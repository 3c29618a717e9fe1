// Caffe's ACROSS_CHANNELS LRN, forward and backward, for the wasm backend: one JavaScript pass over the
// wasm heap each, instead of the dozen tfjs ops (square, pad, average pooling, pow, products, and their
// gradients) the layer otherwise composes, each a full pass over the blob with its own allocation.
//
//   scale = k + (alpha / n) · Σ x² over the n channels centred on c (zero outside [0, C))
//   y     = x · scale^(-beta)
//   dx    = dy · scale^(-beta) − (2 · alpha · beta / n) · x · Σ dy · x · scale^(-beta - 1) over the same window
//
// which is the gradient the composed ops compute (and Caffe's LRNLayer::CrossChannelBackward_cpu, whose
// sum of top_diff · top / scale is the same product). Sums are accumulated in float64, so results differ
// from the composed float32 ops by rounding only. NCHW: each (n, c) plane is contiguous, so every loop
// below streams whole planes.

import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

import { type AcrossChannelsAttrs, LrnAcrossChannels, LrnAcrossChannelsGrad } from './custom_kernel_names.js';
import type { WasmKernelArgs } from './kernel_scope.js';

export function lrnAcrossChannels({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo[] {
  const { x } = inputs as { x: TensorInfo };
  const settings = checked(attrs as unknown as AcrossChannelsAttrs, x, LrnAcrossChannels);
  const [batch, channels, height, width] = x.shape as [number, number, number, number];
  const plane = height * width;
  const yInfo = backend.makeOutput(x.shape, 'float32');
  const scaleInfo = backend.makeOutput(x.shape, 'float32');
  // Views are taken after allocating: growing the heap would detach earlier ones.
  const bottom = backend.typedArrayFromHeap(x) as Float32Array;
  const y = backend.typedArrayFromHeap(yInfo) as Float32Array;
  const scale = backend.typedArrayFromHeap(scaleInfo) as Float32Array;
  const { k, beta } = settings;
  // CaffeNet's beta = 0.75 is taken as square roots, several times faster than Math.pow.
  const threeQuarters = beta === 0.75;
  const alphaOverN = settings.alpha / settings.localSize;
  const half = (settings.localSize - 1) >> 1;
  // The window sum slides: each channel adds the plane entering the window and drops the one leaving.
  const sum = new Float64Array(plane);
  for (let n = 0; n < batch; n++) {
    const image = n * channels * plane;
    sum.fill(0);
    for (let w = 0; w < Math.min(half, channels); w++) {
      const from = image + w * plane;
      for (let p = 0; p < plane; p++) {
        const v = bottom[from + p]!;
        sum[p]! += v * v;
      }
    }
    for (let c = 0; c < channels; c++) {
      const at = image + c * plane;
      const entering = c + half < channels ? image + (c + half) * plane : -1;
      const leaving = c - half - 1 >= 0 ? image + (c - half - 1) * plane : -1;
      for (let p = 0; p < plane; p++) {
        let acc = sum[p]!;
        if (entering >= 0) {
          const v = bottom[entering + p]!;
          acc += v * v;
        }
        if (leaving >= 0) {
          const v = bottom[leaving + p]!;
          acc -= v * v;
        }
        sum[p] = acc;
        const si = k + alphaOverN * acc;
        scale[at + p] = si;
        if (threeQuarters) {
          const root = Math.sqrt(si);
          y[at + p] = bottom[at + p]! / (root * Math.sqrt(root));
        } else {
          y[at + p] = bottom[at + p]! * si ** -beta;
        }
      }
    }
  }
  return [yInfo, scaleInfo];
}

export function lrnAcrossChannelsGrad({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { dy, x, scale } = inputs as { dy: TensorInfo; x: TensorInfo; scale: TensorInfo };
  const settings = checked(attrs as unknown as AcrossChannelsAttrs, x, LrnAcrossChannelsGrad);
  for (const [name, t] of [
    ['dy', dy],
    ['scale', scale],
  ] as const) {
    if (t.shape.join() !== x.shape.join()) {
      throw new Error(`${LrnAcrossChannelsGrad}: ${name} is [${t.shape}], expected x's shape [${x.shape}]`);
    }
  }
  const [batch, channels, height, width] = x.shape as [number, number, number, number];
  const plane = height * width;
  const dxInfo = backend.makeOutput(x.shape, 'float32');
  const bottom = backend.typedArrayFromHeap(x) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const s = backend.typedArrayFromHeap(scale) as Float32Array;
  const dx = backend.typedArrayFromHeap(dxInfo) as Float32Array;
  const { beta } = settings;
  const threeQuarters = beta === 0.75;
  const coefficient = (-2 * settings.alpha * beta) / settings.localSize;
  const half = (settings.localSize - 1) >> 1;
  // dy · x · scale^(-beta - 1) for one image, and its window sum for one plane (sliding, as forward).
  const ratio = new Float64Array(channels * plane);
  const sum = new Float64Array(plane);
  for (let n = 0; n < batch; n++) {
    const image = n * channels * plane;
    for (let i = 0; i < channels * plane; i++) {
      const si = s[image + i]!;
      // scale^(-beta - 1), then scale^(-beta) from it: one division per element.
      let poweredOver: number;
      if (threeQuarters) {
        const root = Math.sqrt(si);
        poweredOver = 1 / (si * root * Math.sqrt(root));
      } else {
        poweredOver = si ** (-beta - 1);
      }
      const gi = g[image + i]!;
      dx[image + i] = gi * poweredOver * si;
      ratio[i] = gi * bottom[image + i]! * poweredOver;
    }
    sum.fill(0);
    for (let w = 0; w < Math.min(half, channels); w++) {
      for (let p = 0; p < plane; p++) sum[p]! += ratio[w * plane + p]!;
    }
    for (let c = 0; c < channels; c++) {
      const at = image + c * plane;
      const entering = c + half < channels ? (c + half) * plane : -1;
      const leaving = c - half - 1 >= 0 ? (c - half - 1) * plane : -1;
      for (let p = 0; p < plane; p++) {
        let acc = sum[p]!;
        if (entering >= 0) acc += ratio[entering + p]!;
        if (leaving >= 0) acc -= ratio[leaving + p]!;
        sum[p] = acc;
        dx[at + p]! += coefficient * bottom[at + p]! * acc;
      }
    }
  }
  return dxInfo;
}

function checked(attrs: AcrossChannelsAttrs, x: TensorInfo, kernel: string): AcrossChannelsAttrs {
  if (x.shape.length !== 4 || x.dtype !== 'float32') {
    throw new Error(`${kernel}: expected a float32 NCHW blob, received ${x.dtype} [${x.shape}]`);
  }
  if (!Number.isInteger(attrs.localSize) || attrs.localSize < 1 || attrs.localSize % 2 === 0) {
    throw new Error(`${kernel}: localSize must be an odd positive integer, received ${attrs.localSize}`);
  }
  return attrs;
}

export const lrnAcrossChannelsConfig: KernelConfig = {
  kernelName: LrnAcrossChannels,
  backendName: 'wasm',
  kernelFunc: lrnAcrossChannels as never,
};

export const lrnAcrossChannelsGradConfig: KernelConfig = {
  kernelName: LrnAcrossChannelsGrad,
  backendName: 'wasm',
  kernelFunc: lrnAcrossChannelsGrad as never,
};
