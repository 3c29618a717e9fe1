// Benchmark of the wasm kernels we register, one at a time, on the shapes CaffeNet's layers give them
// at batch 10 (trainer/models/bvlc_reference_caffenet; our layers run NHWC and pool each plane alone),
// beside the backend's own kernel where it has one. Wall time and process CPU time (all threads), the
// minimum over the runs: on a shared machine the minimum is the least disturbed figure, and CPU time
// shows what a kernel costs when other processes take the cores.
//
//   node dist/hack/bench/kernels_each.js [--runs=5] [--only=NAME,...] [--stock=true]
//        [--out=.brewery/bench/kernels-each.json]
//
// Weights are new tensors on every run, as after each solver step: the backend caches what it packed
// per tensor, and a benchmark that reuses one tensor would time the cache instead.

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';

import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

import { initBackend } from '../../trainer/backend/index.js';
import { LrnAcrossChannels, LrnAcrossChannelsGrad } from '../../trainer/backend/wasm/custom_kernel_names.js';
import { stockWasmKernel, wasmKernel } from '../../trainer/backend/wasm/originals.js';

type Case = {
  name: string;
  kernel: string;
  /** Inputs made fresh before every run (not timed). */
  inputs: () => Record<string, tf.Tensor>;
  attrs: Record<string, unknown>;
  /** The backend has a kernel of its own to compare with. */
  stock: boolean;
};

type Row = { name: string; kernel: string; version: 'ours' | 'stock'; wallMs: number; cpuMs: number };

const flags = parseFlags(process.argv.slice(2));
const runs = Number(flags.runs ?? 5);
const withStock = (flags.stock ?? 'true') !== 'false';
const only = flags.only?.split(',').filter(Boolean);

const normal = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
const poolAttrs = (size: number | [number, number], stride: number) => ({
  filterSize: size,
  strides: stride,
  pad: 'valid',
});

const cases: Case[] = [
  {
    name: 'conv3 dW (3x3, 256->384, 13x13)',
    kernel: 'Conv2DBackpropFilter',
    inputs: () => ({ x: normal([10, 15, 15, 256], 1), dy: normal([10, 13, 13, 384], 2) }),
    attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 256, 384] },
    stock: false,
  },
  {
    name: 'conv2 dW, one group (5x5, 48->128, 27x27)',
    kernel: 'Conv2DBackpropFilter',
    inputs: () => ({ x: normal([10, 31, 31, 48], 3), dy: normal([10, 27, 27, 128], 4) }),
    attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: [5, 5, 48, 128] },
    stock: false,
  },
  {
    name: 'conv3 dX (3x3, 256->384, 13x13)',
    kernel: 'Conv2DBackpropInput',
    inputs: () => ({ dy: normal([10, 13, 13, 384], 5), filter: normal([3, 3, 256, 384], 6) }),
    attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', inputShape: [10, 15, 15, 256] },
    stock: true,
  },
  {
    name: 'conv2 dX, one group (5x5, 48->128, 27x27)',
    kernel: 'Conv2DBackpropInput',
    inputs: () => ({ dy: normal([10, 27, 27, 128], 7), filter: normal([5, 5, 48, 128], 8) }),
    attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', inputShape: [10, 31, 31, 48] },
    stock: true,
  },
  {
    name: 'conv3 forward (reference)',
    kernel: 'Conv2D',
    inputs: () => ({ x: normal([10, 15, 15, 256], 9), filter: normal([3, 3, 256, 384], 10) }),
    attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] },
    stock: false,
  },
  {
    name: 'fc6 forward x·Wᵀ (W 4096x9216)',
    kernel: 'BatchMatMul',
    inputs: () => ({ a: normal([1, 10, 9216], 11), b: normal([1, 4096, 9216], 12) }),
    attrs: { transposeA: false, transposeB: true },
    stock: true,
  },
  {
    name: 'fc6 dX dy·W',
    kernel: 'BatchMatMul',
    inputs: () => ({ a: normal([1, 10, 4096], 13), b: normal([1, 4096, 9216], 14) }),
    attrs: { transposeA: false, transposeB: false },
    stock: true,
  },
  {
    name: 'fc6 dW dyᵀ·x',
    kernel: 'BatchMatMul',
    inputs: () => ({ a: normal([1, 10, 4096], 15), b: normal([1, 10, 9216], 16) }),
    attrs: { transposeA: true, transposeB: false },
    stock: true,
  },
  {
    name: 'pool1 MaxPoolGrad (960 planes 55x55, 3/2)',
    kernel: 'MaxPoolGrad',
    inputs: () => {
      const input = normal([960, 55, 55, 1], 17);
      return {
        dy: normal([960, 27, 27, 1], 18),
        input,
        output: tf.maxPool(input as tf.Tensor4D, 3, 2, 'valid'),
      };
    },
    attrs: poolAttrs(3, 2),
    stock: true,
  },
  {
    name: 'pool2 MaxPoolGrad (2560 planes 27x27, 3/2)',
    kernel: 'MaxPoolGrad',
    inputs: () => {
      const input = normal([2560, 27, 27, 1], 19);
      return {
        dy: normal([2560, 13, 13, 1], 20),
        input,
        output: tf.maxPool(input as tf.Tensor4D, 3, 2, 'valid'),
      };
    },
    attrs: poolAttrs(3, 2),
    stock: true,
  },
  {
    name: "norm1 AvgPoolGrad (LRN's 5-channel window)",
    kernel: 'AvgPoolGrad',
    inputs: () => ({ dy: normal([10, 96, 729, 1], 21), input: normal([10, 100, 729, 1], 22) }),
    attrs: poolAttrs([5, 1], 1),
    stock: true,
  },
  {
    name: "norm1 Slice (LRN's padding gradient)",
    kernel: 'Slice',
    inputs: () => ({ x: normal([10, 100, 729, 1], 23) }),
    attrs: { begin: [0, 2, 0, 0], size: [10, 96, 729, 1] },
    stock: true,
  },
  {
    name: 'norm1 LRN forward, NCHW, one pass (ours)',
    kernel: LrnAcrossChannels,
    inputs: () => ({ x: normal([10, 96, 27, 27], 29) }),
    attrs: { localSize: 5, alpha: 0.0001, beta: 0.75, k: 1 },
    stock: false,
  },
  {
    name: 'norm1 LRN gradient, NCHW, one pass (ours)',
    kernel: LrnAcrossChannelsGrad,
    inputs: () => ({
      x: normal([10, 96, 27, 27], 30),
      scale: tf.add(tf.abs(normal([10, 96, 27, 27], 31)), 1),
      dy: normal([10, 96, 27, 27], 32),
    }),
    attrs: { localSize: 5, alpha: 0.0001, beta: 0.75, k: 1 },
    stock: false,
  },
  {
    // Not ours: the backend's LRN kernels, for comparison with the ops our LRN layer composes today.
    name: "norm1 as one LRN kernel, NHWC (backend's own)",
    kernel: 'LRN',
    inputs: () => ({ x: normal([10, 27, 27, 96], 26) }),
    attrs: { depthRadius: 2, bias: 1, alpha: 0.0001 / 5, beta: 0.75 },
    stock: false,
  },
  {
    name: "norm1 as one LRNGrad kernel, NHWC (backend's own)",
    kernel: 'LRNGrad',
    inputs: () => {
      const x = normal([10, 27, 27, 96], 27);
      const y = tf.localResponseNormalization(x as tf.Tensor4D, 2, 1, 0.0001 / 5, 0.75);
      return { x, y, dy: normal([10, 27, 27, 96], 28) };
    },
    attrs: { depthRadius: 2, bias: 1, alpha: 0.0001 / 5, beta: 0.75 },
    stock: false,
  },
  {
    name: 'conv1 output NCHW -> NHWC',
    kernel: 'Transpose',
    inputs: () => ({ x: normal([10, 96, 55, 55], 24) }),
    attrs: { perm: [0, 2, 3, 1] },
    stock: true,
  },
  {
    name: 'fc6 weights transposed (4096x9216)',
    kernel: 'Transpose',
    inputs: () => ({ x: normal([4096, 9216], 25) }),
    attrs: { perm: [1, 0] },
    stock: true,
  },
];

const info = await initBackend('wasm');
const backend = tf.backend() as BackendWasm;
const rows: Row[] = [];
for (const c of cases.filter((x) => !only || only.some((o) => x.name.includes(o) || x.kernel === o))) {
  const versions: Row['version'][] = withStock && c.stock ? ['ours', 'stock'] : ['ours'];
  for (const version of versions) {
    const kernel = version === 'ours' ? wasmKernel(c.kernel) : stockWasmKernel(c.kernel);
    process.stderr.write(`bench: ${c.name} (${version})...\n`);
    rows.push({ name: c.name, kernel: c.kernel, version, ...measure(c, kernel) });
  }
}

const table = [
  ['kernel', 'case', 'version', 'wall ms (min)', 'cpu ms (min)'],
  ...rows.map((r) => [r.kernel, r.name, r.version, r.wallMs.toFixed(1), r.cpuMs.toFixed(1)]),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
for (const r of table) process.stdout.write(`${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}\n`);
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(
  `\n${info.detail}; ${runs} runs each; peak RSS ${peakRssMiB.toFixed(0)} MiB; load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
const out = flags.out ?? join('.brewery', 'bench', 'kernels-each.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), backend: info.detail, cores: os.availableParallelism(), loadavg: os.loadavg(), runs, peakRssMiB, rows }, null, 2)}\n`,
);
process.stdout.write(`saved ${out}\n`);

/** Minimum wall and CPU time of `runs` calls (after one warm-up), each on freshly made inputs. */
function measure(c: Case, kernel: tf.KernelFunc): { wallMs: number; cpuMs: number } {
  let wallMs = Number.POSITIVE_INFINITY;
  let cpuMs = Number.POSITIVE_INFINITY;
  for (let run = 0; run <= runs; run++) {
    const inputs = c.inputs();
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    // wasm kernels are synchronous (XNNPACK's threads join before it returns): no read-back needed.
    const out = kernel({ inputs, backend, attrs: c.attrs } as never) as tf.TensorInfo | tf.TensorInfo[];
    const wall = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    for (const t of Array.isArray(out) ? out : [out]) backend.disposeData(t.dataId);
    for (const t of Object.values(inputs)) t.dispose();
    if (run === 0) continue;
    wallMs = Math.min(wallMs, wall);
    cpuMs = Math.min(cpuMs, (cpu.user + cpu.system) / 1000);
  }
  return { wallMs, cpuMs };
}

function parseFlags(argv: string[]): Record<string, string | undefined> {
  const flagsOut: Record<string, string | undefined> = {};
  for (const arg of argv) {
    const match = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`bench: expected --name=value flags, received "${arg}"`);
    flagsOut[match[1]!] = match[2] ?? '';
  }
  return flagsOut;
}
