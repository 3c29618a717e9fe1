// UnsortedSegmentSum for the wasm backend, which has none. tfjs needs it for the gradient of Gather
// (label lookups, embedding-style indexing), so a net that gathers cannot train on wasm without it.

import {
  type KernelConfig,
  type TensorInfo,
  UnsortedSegmentSum,
  type UnsortedSegmentSumAttrs,
  util,
} from '@tensorflow/tfjs-core';

import type { WasmKernelArgs } from './kernel_scope.js';

export function unsortedSegmentSum({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum on wasm: expected float32 or int32 data, received ${x.dtype}`);
  }
  const idCount = util.sizeFromShape(segmentIds.shape);
  const rowShape = x.shape.slice(segmentIds.shape.length);
  const rowSize = util.sizeFromShape(rowShape);
  if (idCount * rowSize !== util.sizeFromShape(x.shape)) {
    throw new Error(
      `UnsortedSegmentSum on wasm: expected segment ids shaped like the leading dims of [${x.shape}], ` +
        `received [${segmentIds.shape}]`,
    );
  }
  const out = backend.makeOutput([numSegments, ...rowShape], x.dtype);
  const values = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const sums = backend.typedArrayFromHeap(out);
  sums.fill(0);
  for (let i = 0; i < idCount; i++) {
    const segment = ids[i]!;
    // TensorFlow drops ids outside [0, numSegments).
    if (segment < 0 || segment >= numSegments) continue;
    const from = i * rowSize;
    const to = segment * rowSize;
    for (let j = 0; j < rowSize; j++) sums[to + j]! += values[from + j]!;
  }
  return out;
}

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as never,
};
