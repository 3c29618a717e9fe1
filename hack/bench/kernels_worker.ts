// One backend's part of hack/bench/kernels.ts, run in its own process: whole-step timings of a
// CaffeNet-shaped forward and forward-backward, and one profiled step for per-kernel times.

import * as tf from '@tensorflow/tfjs';
import { type KernelConfig, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';

import { initBackend } from '../../trainer/backend/index.js';
import { stockWasmKernel } from '../../trainer/backend/wasm/originals.js';
import { replacedKernels } from '../../trainer/backend/wasm/register.js';
import { createCaffeNet } from './caffenet.js';
import type { BenchResult } from './kernels_report.js';

export async function runWorker(backend: string, batch: number, iterations: number): Promise<BenchResult> {
  const choice = backend === 'wasm-stock' ? 'wasm' : backend;
  const info = await initBackend(choice);
  if (backend === 'wasm-stock') restoreStockKernels();

  const net = createCaffeNet();
  const images = tf.randomNormal([batch, 227, 227, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const labels = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => (i * 37) % 1000),
    'int32',
  );
  const forward = () => tf.tidy(() => net.loss(images, labels, true)).dataSync();
  const step = () =>
    tf
      .tidy(() => {
        const { value, grads } = tf.variableGrads(() => net.loss(images, labels, true), net.params);
        // Reading every gradient makes sure an asynchronous backend has finished the step.
        for (const g of Object.values(grads)) g.dataSync();
        return value;
      })
      .dispose();

  const quick = backend === 'cpu';
  const forwardMs = timed(forward, iterations, !quick);
  const stepMs = timed(step, iterations, !quick);
  const kernels = quick ? [] : await profileKernels(step);
  return {
    backend,
    detail: backend === 'wasm-stock' ? `${info.detail}, stock backward kernels` : info.detail,
    batch,
    forwardMsPerImage: forwardMs / batch,
    stepMsPerImage: stepMs / batch,
    kernels,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

/** Median wall time of `iterations` runs, after one warm-up run unless told otherwise. */
function timed(run: () => unknown, iterations: number, warmUp: boolean): number {
  if (warmUp) run();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function profileKernels(step: () => void): Promise<BenchResult['kernels']> {
  const profile = await tf.profile(step);
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const k of profile.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += ms;
    entry.calls += 1;
    byName.set(k.name, entry);
  }
  return [...byName.entries()].map(([name, v]) => ({ name, ...v })).sort((a, b) => b.ms - a.ms);
}

/** Puts the wasm backend's own kernels back where we replaced them (bench comparison only). */
function restoreStockKernels(): void {
  for (const config of replacedKernels) {
    const stock: KernelConfig = {
      kernelName: config.kernelName,
      backendName: 'wasm',
      kernelFunc: stockWasmKernel(config.kernelName),
    };
    unregisterKernel(config.kernelName, 'wasm');
    registerKernel(stock);
  }
}
