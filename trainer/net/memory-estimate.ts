// Whether a training net fits the wasm backend's heap, decided from its spec before anything is allocated.
//
// wasm32 addresses at most 4 GiB, and tfjs's wasm backend keeps every tensor in that one heap, which grows
// and never shrinks. One training iteration's peak tensors, measured with the memory profile of
// `caffe time --memory` on the wasm backend (CaffeNet deploy + SoftmaxWithLoss at batch 8 and 32: 564.5
// and 862.8 MiB), are at the start of backward: PEAK_PER_DATA_BYTE times Caffe's "Memory required for
// data" (every top blob: 52.4 and 209.5 MiB), plus twice the weights (232.6 MiB), plus the solver's
// history (SGD: once the weights); the heap was HEAP_OVER_TENSORS over the tensors (908.2 MiB at 32).
import { BadInputError } from '../contract/errors.js';
import { count, type NetSpec } from './spec/index.js';

/** wasm32's largest heap, as tfjs-backend-wasm's emscripten build reports it (getHeapMax). */
export const WASM_HEAP_BYTES = 4294901760;
/** Peak tensor bytes, weights aside, per byte of Caffe's data count (measured 1.90 from batch 8 to 32). */
const PEAK_PER_DATA_BYTE = 1.9;
/** The heap over the peak tensors (allocator, kernels' scratch): measured 1.05; 1.1 for a margin. */
const HEAP_OVER_TENSORS = 1.1;

/** Caffe's "Memory required for data": 4 bytes per element of every top blob. */
export function dataBytes(spec: NetSpec): number {
  return (
    spec.layers.reduce((sum, layer) => sum + layer.topShapes.reduce((s, shape) => s + count(shape), 0), 0) * 4
  );
}

/** The wasm heap one training iteration needs (see above): its peak tensors, plus the allocator's share. */
export function wasmTrainingHeapBytes(spec: NetSpec, paramBytes: number, historySlots: number): number {
  const tensors = PEAK_PER_DATA_BYTE * dataBytes(spec) + (2 + historySlots) * paramBytes;
  return tensors * HEAP_OVER_TENSORS;
}

/**
 * Refuses a training net whose iteration cannot fit the wasm heap, naming the largest batch that does
 * (the data count scales with the batch, the parameters do not).
 */
export function checkFitsWasmHeap(spec: NetSpec, paramBytes: number, historySlots = 1): void {
  const needed = wasmTrainingHeapBytes(spec, paramBytes, historySlots);
  if (needed <= WASM_HEAP_BYTES) return;
  const batch = spec.layers.find((l) => l.bottoms.length === 0 && l.topShapes[0]?.length)?.topShapes[0]?.[0];
  const perImage = batch ? (PEAK_PER_DATA_BYTE * dataBytes(spec) * HEAP_OVER_TENSORS) / batch : undefined;
  const fixed = (2 + historySlots) * paramBytes * HEAP_OVER_TENSORS;
  const fits = perImage ? Math.floor((WASM_HEAP_BYTES - fixed) / perImage) : 0;
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(2);
  throw new BadInputError(
    `training needs about ${gib(needed)} GiB of wasm heap at batch ${batch ?? '?'}, more than wasm's ` +
      `${gib(WASM_HEAP_BYTES)} GiB; ${fits > 0 ? `batch ${fits} fits` : 'no batch fits'} ` +
      `(or use --backend=tensorflow)`,
    `net "${spec.name}"`,
  );
}
