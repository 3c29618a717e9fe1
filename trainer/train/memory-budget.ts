// PURE: how a training run spends its memory budget (the pod's memory limit, or --memory_budget). The
// runtime and the net come first; what is left holds the loaders' batches in flight, and each decode
// thread needs a batch of its own to fill, so threads never outnumber the batches.
import { count, type NetSpec } from '../net/spec/index.js';

/** Node.js, TensorFlow.js, the backend's kernels and the code: measured at about 250 MiB; kept wide. */
export const RUNTIME_BYTES = 320 * 2 ** 20;
/** Share of what is left after the runtime and the net that batches in flight may take. */
const BATCH_SHARE = 0.5;
/**
 * One batch in flight holds its float32 data, the records it is made from (raw 256x256 bytes are a
 * third of 227x227 floats) and, once used, a spare buffer to fill again: counted as 1.5 batches.
 */
const BYTES_PER_BATCH_IN_FLIGHT = 1.5;

export interface LoaderSizingInput {
  /** The budget in bytes; undefined when nothing limits the process. */
  budgetBytes: number | undefined;
  /** Decode threads wanted (the CPU quota in whole cores, --threads, or the core count). */
  threads: number;
  /** Bytes of one batch of this loader's float32 data. */
  batchBytes: number;
  /** The nets' memory estimate (netMemoryBytes). */
  netBytes: number;
  /** Loaders sharing the budget (one per Data layer of every net). */
  loaders: number;
}

export interface LoaderSizing {
  threads: number;
  batchesInFlight: number;
  /** Set when the budget cannot hold even one batch in flight beside the net: a warning to log. */
  overBudget?: string;
}

/** Threads and batches in flight for one loader. */
export function sizeLoader(input: LoaderSizingInput): LoaderSizing {
  const threads = Math.max(1, Math.floor(input.threads));
  // Caffe's prefetch of 4, and two per thread so none waits for the consumer.
  const wanted = Math.max(4, 2 * threads);
  if (input.budgetBytes === undefined) return { threads, batchesInFlight: wanted };
  const spare = input.budgetBytes - RUNTIME_BYTES - input.netBytes;
  const share = (Math.max(0, spare) * BATCH_SHARE) / Math.max(1, input.loaders);
  const fits = Math.floor(share / (input.batchBytes * BYTES_PER_BATCH_IN_FLIGHT));
  const batchesInFlight = Math.max(1, Math.min(wanted, fits));
  const sizing: LoaderSizing = { threads: Math.min(threads, batchesInFlight), batchesInFlight };
  if (fits < 1) {
    sizing.overBudget =
      `a memory budget of ${mib(input.budgetBytes)} leaves no room for one batch of ` +
      `${mib(input.batchBytes)} beside the runtime (${mib(RUNTIME_BYTES)}) and the nets (${mib(input.netBytes)})`;
  }
  return sizing;
}

/**
 * Bytes the nets need, counted as Caffe counts blobs: every top twice (data and diff) and every
 * parameter four times (weights, gradient, the solver's history, and the test net's view of them).
 * tfjs frees a step's intermediates, so this is an upper estimate of what stays.
 */
export function netMemoryBytes(specs: NetSpec[]): number {
  let floats = 0;
  specs.forEach((spec, index) => {
    const train = index === 0;
    for (const layer of spec.layers) {
      for (const shape of layer.topShapes) floats += count(shape) * (train ? 2 : 1);
      if (train) for (const shape of layer.paramShapes) floats += count(shape) * 4;
    }
  });
  return floats * 4;
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}
