// Identity and Transpose for the wasm backend, without the copies and slow loops of its own kernels.
//
// Identity: tfjs clones every tensor it saves for the backward pass through this kernel. The wasm
// backend copies the data, which costs memory bandwidth and, worse, gives a weight a new id, so
// XNNPACK's packed-weight cache (keyed on that id) misses and repacks the matrix. Tensors are
// immutable, so we share the data under a new reference, as the pure-JS backend does.
//
// Transpose: the backend's kernel walks the output with strided reads, ~45 ns per element on a large
// matrix. Any permutation that is a batch of two-axis swaps once axes moving together are merged (a
// matrix transpose, NCHW <-> NHWC, [1,2,0,3]) and large enough to defeat the cache is done here, in
// cache-sized tiles or whole blocks; others go to the original kernel.

import {
  type DataType,
  Identity,
  type KernelConfig,
  type TensorInfo,
  Transpose,
  type TransposeAttrs,
} from '@tensorflow/tfjs-core';

import type { WasmKernelArgs } from './kernel_scope.js';
import { stockWasmKernel } from './originals.js';
import { type BlockTranspose, simdTranspose } from './simd_transpose.js';

const tile = 64;
/** Swaps whose shorter side is at least this long are tiled here; shorter ones go to the stock loop. */
const tiledFrom = 256;
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
  const plan = numeric.includes(x.dtype) ? swapPlan(x.shape, perm) : undefined;
  // The stock loop is fine (and ~2x faster than a JS tile loop) while one side of the swap fits in
  // cache, e.g. NCHW -> NHWC with C = 96: measured with hack/bench/kernels_each.ts.
  const cacheFriendly = plan !== undefined && plan.inner < 16 && Math.min(plan.rows, plan.cols) < tiledFrom;
  if (plan === undefined || cacheFriendly) return stockWasmKernel(Transpose)(args as never) as TensorInfo;

  const out = backend.makeOutput(
    perm.map((axis) => x.shape[axis]!),
    x.dtype,
  );
  // Int32 views move float32 and int32 bit for bit. Views are taken after allocating the output.
  const source = int32View(backend.typedArrayFromHeap(x));
  const target = int32View(backend.typedArrayFromHeap(out));
  const simd = simdTranspose(heapMemory(backend));
  if (plan.rows === 1 || plan.cols === 1) target.set(source);
  else if (plan.inner === 1 && simd !== undefined) transposeSimd(source, target, plan, simd);
  else if (plan.inner === 1) transposeTiles(source, target, plan);
  else transposeBlocks(source, target, plan);
  return out;
}

/** target[b][j][m][i][:] = source[b][i][m][j][:], for blocks of `inner` elements. */
type SwapPlan = { batch: number; rows: number; middle: number; cols: number; inner: number };

/**
 * A transpose as `batch` independent swaps of a rows x cols matrix of `inner`-element blocks, when
 * it is one: axes that move together are merged and size-1 axes dropped first, so NCHW <-> NHWC
 * ([0,2,3,1], [0,3,1,2]), a matrix transpose, [1,2,0,3] and [3,1,2,0] (a swap around a middle axis)
 * all qualify. Undefined otherwise. Pure.
 */
export function swapPlan(shape: readonly number[], perm: readonly number[]): SwapPlan | undefined {
  // Size-1 axes never move data: drop them and renumber the rest.
  const keptAxes = shape.map((_, axis) => axis).filter((axis) => shape[axis] !== 1);
  const renumbered = new Map(keptAxes.map((axis, k) => [axis, k]));
  const kept = perm.filter((axis) => shape[axis] !== 1).map((axis) => renumbered.get(axis)!);
  // Runs of output axes that are consecutive input axes move as one axis.
  const groups: number[][] = [];
  for (const axis of kept) {
    const last = groups.at(-1);
    if (last !== undefined && last.at(-1)! + 1 === axis) last.push(axis);
    else groups.push([axis]);
  }
  const inInputOrder = [...groups].sort((g, h) => g[0]! - h[0]!);
  const size = (g: number[]) => g.reduce((product, k) => product * shape[keptAxes[k]!]!, 1);
  const order = groups.map((g) => inInputOrder.indexOf(g));
  const extents = inInputOrder.map(size);
  const rank = order.length;
  const product = (from: number, to: number) => extents.slice(from, to).reduce((x, y) => x * y, 1);
  if (rank <= 1) return { batch: 1, rows: 1, middle: 1, cols: extents[0] ?? 1, inner: 1 };
  // Identity on the leading axes, then two axes swapped (with at most one axis between them left in
  // place), then at most one axis left in place.
  const innerFixed = order[rank - 1] === rank - 1;
  const end = innerFixed ? rank - 1 : rank;
  let start = 0;
  while (start < end && order[start] === start) start++;
  const span = end - start;
  if (span !== 2 && span !== 3) return undefined;
  for (let k = 0; k < span; k++) if (order[start + k] !== end - 1 - k) return undefined;
  return {
    batch: product(0, start),
    rows: extents[start]!,
    middle: span === 3 ? extents[start + 1]! : 1,
    cols: extents[end - 1]!,
    inner: innerFixed ? extents[rank - 1]! : 1,
  };
}

/**
 * The backend's WebAssembly.Memory: the threaded build exports it as Module.wasmMemory (for its
 * workers), the single-threaded one only among the module's exports (Module.asm.memory).
 */
export function heapMemory(backend: WasmKernelArgs['backend']): unknown {
  const module = (backend as unknown as { wasm: { wasmMemory?: unknown; asm?: { memory?: unknown } } }).wasm;
  return module.wasmMemory ?? module.asm?.memory;
}

function int32View(array: ArrayBufferView): Int32Array {
  return new Int32Array(array.buffer, array.byteOffset, array.byteLength / 4);
}

/**
 * The swap for single elements, one tile x tile block at a time so both sides stay in cache, four
 * source rows per pass so each target row gets four adjacent elements at once: 2.5 ns per element on
 * fc6's weights against 8 ns one row at a time (32-wide tiles), measured with
 * hack/bench/kernels_each.ts.
 */
function transposeTiles(source: Int32Array, target: Int32Array, plan: SwapPlan): void {
  const { batch, rows, middle, cols } = plan;
  const size = rows * middle * cols;
  const sourceRow = middle * cols;
  const targetRow = middle * rows;
  for (let b = 0; b < batch; b++) {
    for (let m = 0; m < middle; m++) {
      const sourceBase = b * size + m * cols;
      const targetBase = b * size + m * rows;
      for (let i0 = 0; i0 < rows; i0 += tile) {
        const i1 = Math.min(i0 + tile, rows);
        const i4 = i0 + ((i1 - i0) & ~3);
        for (let j0 = 0; j0 < cols; j0 += tile) {
          const j1 = Math.min(j0 + tile, cols);
          for (let i = i0; i < i4; i += 4) {
            const r0 = sourceBase + i * sourceRow;
            const r1 = r0 + sourceRow;
            const r2 = r1 + sourceRow;
            const r3 = r2 + sourceRow;
            for (let j = j0; j < j1; j++) {
              const to = targetBase + j * targetRow + i;
              target[to] = source[r0 + j]!;
              target[to + 1] = source[r1 + j]!;
              target[to + 2] = source[r2 + j]!;
              target[to + 3] = source[r3 + j]!;
            }
          }
          for (let i = i4; i < i1; i++) {
            const from = sourceBase + i * sourceRow;
            for (let j = j0; j < j1; j++) target[targetBase + j * targetRow + i] = source[from + j]!;
          }
        }
      }
    }
  }
}

/**
 * The swap for single elements in WebAssembly SIMD (simd_transpose.ts), 4x4 blocks, in strips of 512
 * source rows by 8 columns: each strip writes 8 target rows of 2 KiB and reads 512 cache lines that the
 * next strip reuses. fc6's weights: ~43 ms against ~120 for the JS tiles (measured on 2 shared cores;
 * square tiles of 32-128 took 100-120 ms). Rows and columns past a multiple of 4 are moved in JS.
 */
function transposeSimd(source: Int32Array, target: Int32Array, plan: SwapPlan, simd: BlockTranspose): void {
  const { batch, rows, middle, cols } = plan;
  const size = rows * middle * cols;
  const sourceRow = middle * cols;
  const targetRow = middle * rows;
  const rows4 = rows & ~3;
  const cols4 = cols & ~3;
  for (let b = 0; b < batch; b++) {
    for (let m = 0; m < middle; m++) {
      const sourceBase = b * size + m * cols;
      const targetBase = b * size + m * rows;
      const sourceAddress = source.byteOffset + 4 * sourceBase;
      const targetAddress = target.byteOffset + 4 * targetBase;
      for (let i0 = 0; i0 < rows4; i0 += 512) {
        const strip = Math.min(512, rows4 - i0);
        for (let j0 = 0; j0 < cols4; j0 += 8) {
          simd(
            sourceAddress + 4 * (i0 * sourceRow + j0),
            targetAddress + 4 * (j0 * targetRow + i0),
            strip,
            Math.min(8, cols4 - j0),
            4 * sourceRow,
            4 * targetRow,
          );
        }
      }
      for (let i = 0; i < rows; i++) {
        const from = sourceBase + i * sourceRow;
        // Every column of the rows past rows4; the columns past cols4 of the others.
        for (let j = i < rows4 ? cols4 : 0; j < cols; j++)
          target[targetBase + j * targetRow + i] = source[from + j]!;
      }
    }
  }
}

/** The swap for blocks of `inner` contiguous elements, each copied whole. */
function transposeBlocks(source: Int32Array, target: Int32Array, plan: SwapPlan): void {
  const { batch, rows, middle, cols, inner } = plan;
  const size = rows * middle * cols * inner;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < rows; i++) {
      for (let m = 0; m < middle; m++) {
        for (let j = 0; j < cols; j++) {
          const from = b * size + ((i * middle + m) * cols + j) * inner;
          const to = b * size + ((j * middle + m) * rows + i) * inner;
          if (inner >= 16) target.set(source.subarray(from, from + inner), to);
          else for (let e = 0; e < inner; e++) target[to + e] = source[from + e]!;
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
