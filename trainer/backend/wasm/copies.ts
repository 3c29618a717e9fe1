// Identity and Transpose for the wasm backend, without the copies and slow loops of its own kernels.
//
// Identity: tfjs clones every tensor it saves for the backward pass through this kernel. The wasm
// backend copies the data, which costs memory bandwidth and, worse, gives a weight a new id, so
// XNNPACK's packed-weight cache (keyed on that id) misses and repacks the matrix. Tensors are
// immutable, so we share the data under a new reference, as the pure-JS backend does.
//
// Transpose: the backend's kernel walks the output with strided reads, ~45 ns per element on a large
// matrix. Swapping the last two dimensions (what matrix products need) is done here in cache-sized
// tiles; other permutations go to the original kernel.

import {
  type DataType,
  Identity,
  type KernelConfig,
  type TensorInfo,
  Transpose,
  type TransposeAttrs,
  util,
} from '@tensorflow/tfjs-core';

import type { WasmKernelArgs } from './kernel_scope.js';
import { stockWasmKernel } from './originals.js';

const tile = 32;
const numeric: DataType[] = ['float32', 'int32'];

export function identity(args: WasmKernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (!numeric.includes(x.dtype)) return stockWasmKernel(Identity)(args as never) as TensorInfo;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export function transpose(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs as { x: TensorInfo };
  const { perm } = attrs as unknown as TransposeAttrs;
  const rank = x.shape.length;
  const swapsLastTwo =
    rank >= 2 &&
    perm.every((p, i) => (i < rank - 2 ? p === i : p === (i === rank - 2 ? rank - 1 : rank - 2)));
  if (!swapsLastTwo || !numeric.includes(x.dtype))
    return stockWasmKernel(Transpose)(args as never) as TensorInfo;

  const rows = x.shape[rank - 2]!;
  const cols = x.shape[rank - 1]!;
  const batch = util.sizeFromShape(x.shape.slice(0, -2));
  const out = backend.makeOutput([...x.shape.slice(0, -2), cols, rows], x.dtype);
  const source = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(out);
  transposeTiles(source, target, batch, rows, cols);
  return out;
}

/** target[b][j][i] = source[b][i][j], one tile x tile block at a time so both sides stay in cache. */
function transposeTiles(
  source: ArrayLike<number>,
  target: { [i: number]: number },
  batch: number,
  rows: number,
  cols: number,
): void {
  const size = rows * cols;
  for (let b = 0; b < batch; b++) {
    const base = b * size;
    for (let i0 = 0; i0 < rows; i0 += tile) {
      const i1 = Math.min(i0 + tile, rows);
      for (let j0 = 0; j0 < cols; j0 += tile) {
        const j1 = Math.min(j0 + tile, cols);
        for (let i = i0; i < i1; i++) {
          const from = base + i * cols;
          for (let j = j0; j < j1; j++) target[base + j * rows + i] = source[from + j]!;
        }
      }
    }
  }
}

export const identityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: 'wasm',
  kernelFunc: identity as never,
};

export const transposeConfig: KernelConfig = {
  kernelName: Transpose,
  backendName: 'wasm',
  kernelFunc: transpose as never,
};
