// The one place that picks the compute backend. Net, solver and data code only use tfjs ops and never
// ask which backend runs them.
//
// Order for `auto`: native TensorFlow with a GPU, native TensorFlow on the CPU (when `npm run
// setup:native` has provisioned it or the package is installed), tfjs-backend-wasm with our training
// kernels and a thread per core, and last the pure-JS backend (about 100x slower than wasm).

import os from 'node:os';

import '@tensorflow/tfjs-backend-cpu';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { glogLine, type Severity } from '../glog.js';
import {
  type BackendCandidate,
  type BackendChoice,
  type BackendFailure,
  candidatesFor,
  fallbackReason,
  parseBackendChoice,
  wasmThreadsFor,
} from './choice.js';
import { loadNativeBinding } from './native.js';
import { initWasmBackend } from './wasm/init.js';

export type { BackendChoice } from './choice.js';
export { backendChoices, parseBackendChoice } from './choice.js';

/** The backend that runs, as tfjs names it, and a line a person can read about it. */
export type BackendInfo = { name: string; detail: string };

export type InitBackendOptions = {
  /** Environment to read BREWERY_BACKEND, BREWERY_WASM_THREADS and BREWERY_CACHE from. */
  env?: NodeJS.ProcessEnv;
  /** Receives the glog-style lines; defaults to stderr, where Caffe's glog writes. */
  log?: (line: string) => void;
  now?: () => Date;
};

// Where Caffe's own start-up lines come from; parsers match on the message, never on this.
const logSource = 'common.cpp:36';

/**
 * Starts a backend. `choice` is the --backend flag value (absent: BREWERY_BACKEND, then `auto`).
 * Throws UsageError for an unknown choice and Error when the chosen backend (or, for auto, every
 * backend) cannot start, naming each one tried and why.
 */
export async function initBackend(choice?: string, options: InitBackendOptions = {}): Promise<BackendInfo> {
  const env = options.env ?? process.env;
  const write = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const log = (severity: Severity, message: string) =>
    write(glogLine(severity, logSource, message, now(), process.pid));

  const wanted: BackendChoice = parseBackendChoice(choice, env.BREWERY_BACKEND);
  const failures: BackendFailure[] = [];
  for (const candidate of candidatesFor(wanted)) {
    try {
      const info = await start(candidate, env);
      const why = fallbackReason(candidate, failures);
      if (why) log('W', why);
      log('I', `Using backend ${info.name}: ${info.detail}`);
      return info;
    } catch (error) {
      failures.push({ candidate, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  const hints: Partial<Record<BackendChoice, string>> = {
    tensorflow: ' (run `npm run setup:native` to provision TensorFlow)',
    'tensorflow-gpu': ' (run `npm run setup:gpu` to provision the GPU build)',
  };
  const hint = hints[wanted] ?? '';
  const tried = failures.map((f) => `${f.candidate}: ${f.reason}`).join('; ');
  throw new Error(`no compute backend could start for "${wanted}"${hint}: ${tried}`);
}

async function start(candidate: BackendCandidate, env: NodeJS.ProcessEnv): Promise<BackendInfo> {
  switch (candidate) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const source = loadNativeBinding(candidate === 'tensorflow-gpu' ? 'gpu' : 'cpu', env);
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`${source} loaded but did not start`);
      const backend = tf.backend() as unknown as {
        binding?: { TF_Version?: string };
        isUsingGpuDevice?: boolean;
      };
      const version = `${source}, libtensorflow ${backend.binding?.TF_Version ?? 'unknown'}`;
      // The GPU build runs every op on the CPU when TensorFlow finds no GPU (no driver, no device):
      // said in this one line, so a job that expected a GPU shows why it is slow.
      const where =
        candidate === 'tensorflow-gpu' && !backend.isUsingGpuDevice
          ? ', no GPU found: running on the CPU'
          : '';
      return { name: 'tensorflow', detail: `${version}${where}` };
    }
    case 'wasm': {
      const threads = wasmThreadsFor(os.availableParallelism(), env.BREWERY_WASM_THREADS);
      const started = await initWasmBackend(threads);
      const simd = started.simd ? 'SIMD' : 'no SIMD';
      const detail = `tfjs-backend-wasm ${version_wasm}, ${simd}, ${started.threads} thread(s), training kernels registered`;
      return { name: 'wasm', detail };
    }
    case 'cpu': {
      if (!(await tf.setBackend('cpu'))) throw new Error('the pure-JS backend did not start');
      return { name: 'cpu', detail: 'tfjs-backend-cpu (pure JavaScript, slow: for tests and last resort)' };
    }
  }
}
