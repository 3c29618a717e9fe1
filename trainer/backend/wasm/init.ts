// Starts tfjs-backend-wasm in Node with a thread pool and our training kernels.
//
// tfjs-backend-wasm 4.22 turns threads off in Node (its WASM_HAS_MULTITHREAD_SUPPORT flag answers false
// there), although its threaded build carries Node support: what fails is only how the worker script is
// handed over (a blob: URL, which Node's Worker refuses) and the pool size, which the C side sets to
// half the logical cores (it assumes hyper-threading) and so to 1 on a 2-core machine. We hand the
// worker over as a file and report the cores we want while the module starts. Both patches are undone
// as soon as the backend is up.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';

import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

import { registerWasmTrainingKernels } from './register.js';

const require = createRequire(import.meta.url);
const threadedModule = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd';
/** tfjs-backend-wasm pre-creates 8 workers, the most its thread pool can use. */
const maxThreads = 8;

export type WasmStart = { threads: number; simd: boolean };

/** Initialises the wasm backend with `threads` threads (1 = no workers) and registers our kernels. */
export async function initWasmBackend(threads: number): Promise<WasmStart> {
  const wanted = Math.max(1, Math.min(maxThreads, Math.floor(threads)));
  const started = wanted > 1 ? await withNodeThreads(wanted, () => tf.setBackend('wasm')) : await plain();
  if (!started) {
    const hint =
      wanted > 1 ? `; with ${wanted} threads (BREWERY_WASM_THREADS=1 starts it without workers)` : '';
    throw new Error(`tfjs-backend-wasm failed to initialise${hint}; see the messages above`);
  }
  if (wanted > 1) letProcessExit();
  registerWasmTrainingKernels();
  return { threads: getThreadsCount(), simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true };
}

async function plain(): Promise<boolean> {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setThreadsCount(1);
  return tf.setBackend('wasm');
}

async function withNodeThreads(threads: number, start: () => Promise<boolean>): Promise<boolean> {
  const workerFile = writeWorkerScript();
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  URL.createObjectURL = () => workerFile;
  // The C side uses half of what this reports; report enough for the pool we want.
  os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus()[i % cpus().length]!);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  try {
    return await start();
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  }
}

/** Emscripten's pthread workers would keep Node alive after the program is done; unref them. */
function letProcessExit(): void {
  const backend = tf.backend() as unknown as { wasm: { PThread?: PThreads } };
  const pool = backend.wasm.PThread;
  for (const worker of [...(pool?.unusedWorkers ?? []), ...(pool?.runningWorkers ?? [])]) worker.unref?.();
}

type PThreads = { unusedWorkers?: { unref?: () => void }[]; runningWorkers?: { unref?: () => void }[] };

/**
 * Writes the backend's pthread worker script to a temporary file. Inside the worker, the script the
 * backend sends as a Blob is the threaded module itself, so we point the worker's createObjectURL at
 * that module's file on disk.
 */
function writeWorkerScript(): string {
  const { wasmWorkerContents } = require(`${threadedModule}.worker.js`) as { wasmWorkerContents: string };
  const moduleFile = require.resolve(`${threadedModule}.js`);
  const dir = mkdtempSync(join(os.tmpdir(), 'brewery-wasm-'));
  const file = join(dir, 'worker.cjs');
  const shim = `URL.createObjectURL = () => ${JSON.stringify(moduleFile)}; URL.revokeObjectURL = () => {};\n`;
  // The contents come from a template string whose \n escapes became newlines; escape them back.
  writeFileSync(file, shim + wasmWorkerContents.replace(/\n/g, '\\n'));
  return file;
}
