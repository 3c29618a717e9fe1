// The wasm backend's kernels: the ones registered now (ours where we replaced one) and the stock ones
// captured before we registered replacements under the same names.

import { getKernel, type KernelFunc } from '@tensorflow/tfjs-core';

const stock = new Map<string, KernelFunc>();

/** Remembers the wasm backend's own kernel `name`, so a replacement can still fall back to it. */
export function captureWasmKernel(name: string): void {
  if (stock.has(name)) return;
  const config = getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`the wasm backend has no kernel ${name} to capture`);
  stock.set(name, config.kernelFunc);
}

/** The wasm backend's own kernel `name`, even where we registered a replacement. */
export function stockWasmKernel(name: string): KernelFunc {
  return stock.get(name) ?? wasmKernel(name);
}

/** The kernel registered for `name` on wasm now: ours where we replaced or added one. */
export function wasmKernel(name: string): KernelFunc {
  const config = getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`the wasm backend has no kernel ${name}`);
  return config.kernelFunc;
}
