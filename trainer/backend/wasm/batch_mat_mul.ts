// BatchMatMul for the wasm backend. Its kernel hands the right operand to XNNPACK as the "weights"
// of a fully-connected operator, which packs them (transposing, since tfjs stores them [K, N]) at
// ~150 ns per element unless the same tensor was packed before: fine for inference, ruinous when the
// weights change every iteration (fc6's 37.7M weights: seconds per step). Its transposeA/transposeB
// paths are slow loops too. So we never pass a transposed operand, and pick between
//   direct:  C = op(A) · op(B)            packs op(B)
//   swapped: C = (op(B)ᵀ · op(A)ᵀ)ᵀ       packs op(A)ᵀ, op(B)ᵀ is B itself when transposeB
// whichever costs less, counting packing and our tiled transposes (copies.ts).
// A Caffe InnerProduct (weights [out, in]) then runs its forward as W·xᵀ and its input gradient as
// Wᵀ·dyᵀ, each moving only one copy of W at memory speed, or none.

import {
  BatchMatMul,
  type BatchMatMulAttrs,
  type KernelConfig,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';

import { KernelScope, type WasmKernelArgs } from './kernel_scope.js';
import { stockWasmKernel, wasmKernel } from './originals.js';

/** Packing an operand costs about this many tiled-transpose copies of it (measured on 2 shared cores: ~150 vs ~37 ns). */
const packingCost = 4;

export function batchMatMul(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  const multiply = stockWasmKernel(BatchMatMul);

  const sizeA = util.sizeFromShape(a.shape);
  const sizeB = util.sizeFromShape(b.shape);
  const rows = transposeA ? a.shape[a.shape.length - 1]! : a.shape[a.shape.length - 2]!;
  const cols = transposeB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
  const batch = Math.max(util.sizeFromShape(a.shape.slice(0, -2)), util.sizeFromShape(b.shape.slice(0, -2)));
  const direct = (transposeA ? sizeA : 0) + (transposeB ? sizeB : 0) + packingCost * sizeB;
  const swapped =
    (transposeA ? 0 : sizeA) + (transposeB ? 0 : sizeB) + batch * rows * cols + packingCost * sizeA;
  if (!transposeA && !transposeB && direct <= swapped) return multiply(args as never) as TensorInfo;

  return KernelScope.compose(backend, (scope) => {
    const transpose = (x: TensorInfo) =>
      scope.run(wasmKernel('Transpose'), { x }, { perm: swapLastTwo(x.shape.length) });
    const plain = { transposeA: false, transposeB: false };
    if (direct <= swapped) {
      const left = transposeA ? transpose(a) : a;
      const right = transposeB ? transpose(b) : b;
      return scope.run(multiply, { a: left, b: right }, plain);
    }
    const left = transposeB ? b : transpose(b);
    const right = transposeA ? a : transpose(a);
    return transpose(scope.run(multiply, { a: left, b: right }, plain));
  });
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMul as never,
};
