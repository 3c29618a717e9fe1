// Slice for the wasm backend. Its own kernel copies element by element through a generic index walk
// (~40 ns per element on 2 shared cores); the slices our layers make (the gradient of a padding, LRN's
// channel window, a group's rows) are a few long contiguous runs, copied here as blocks.

import {
  type KernelConfig,
  Slice,
  type SliceAttrs,
  slice_util,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';

import type { WasmKernelArgs } from './kernel_scope.js';
import { stockWasmKernel } from './originals.js';

/** Below this many elements per contiguous run, the stock element-wise kernel is as good. */
const shortestRun = 16;

export function slice(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs as { x: TensorInfo };
  const { begin: beginAttr, size: sizeAttr } = attrs as unknown as SliceAttrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32')
    return stockWasmKernel(Slice)(args as never) as TensorInfo;
  const [begin, size] = slice_util.parseSliceParams(x, beginAttr, sizeAttr) as [number[], number[]];
  slice_util.assertParamsValid(x, begin, size);
  const plan = contiguousRuns(x.shape, begin, size);
  if (plan.run < shortestRun && util.sizeFromShape(size) > 0) {
    return stockWasmKernel(Slice)(args as never) as TensorInfo;
  }
  const out = backend.makeOutput(size, x.dtype);
  if (plan.run === 0) return out;
  // Int32 views copy float32 and int32 bit for bit. Views are taken after allocating the output.
  const source = int32View(backend.typedArrayFromHeap(x));
  const targetInts = int32View(backend.typedArrayFromHeap(out));
  let at = 0;
  for (const from of plan.starts) {
    targetInts.set(source.subarray(from, from + plan.run), at);
    at += plan.run;
  }
  return out;
}

function int32View(array: ArrayBufferView): Int32Array {
  return new Int32Array(array.buffer, array.byteOffset, array.byteLength / 4);
}

/**
 * A slice as contiguous runs of the input: the run length (the innermost axes taken whole, times the
 * extent of the first axis that is cut) and the flat start of every run, in output order. Pure.
 */
export function contiguousRuns(
  shape: number[],
  begin: number[],
  size: number[],
): { run: number; starts: number[] } {
  const rank = shape.length;
  if (size.some((s) => s === 0)) return { run: 0, starts: [] };
  if (rank === 0) return { run: 1, starts: [0] };
  const strides = [...util.computeStrides(shape), 1];
  let axis = rank - 1;
  let run = 1;
  while (axis > 0 && size[axis] === shape[axis]) run *= size[axis--]!;
  run *= size[axis]!;
  const base = begin[axis]! * strides[axis]!;
  const starts: number[] = [];
  const index = new Array<number>(axis).fill(0);
  const count = util.sizeFromShape(size.slice(0, axis));
  for (let k = 0; k < count; k++) {
    let from = base;
    for (let a = 0; a < axis; a++) from += (begin[a]! + index[a]!) * strides[a]!;
    starts.push(from);
    for (let a = axis - 1; a >= 0; a--) {
      if (++index[a]! < size[a]!) break;
      index[a] = 0;
    }
  }
  return { run, starts };
}

export const sliceConfig: KernelConfig = {
  kernelName: Slice,
  backendName: 'wasm',
  kernelFunc: slice as never,
};
