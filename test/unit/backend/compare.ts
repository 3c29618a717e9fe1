// Helpers for running the same computation on the wasm and pure-JS backends and comparing results.

import assert from 'node:assert/strict';

// The union package registers the gradients and chained ops that tfjs-core alone leaves out.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

import { initWasmBackend } from '../../../trainer/backend/wasm/init.js';

/** Relative and absolute tolerance for float32 results computed in a different order. */
export const tolerance = { relative: 1e-4, absolute: 1e-5 };

let wasmReady: Promise<unknown> | undefined;

/** Starts wasm once per test process, with 2 threads so the threaded path is the one tested. */
export function startWasm(): Promise<unknown> {
  wasmReady ??= initWasmBackend(2);
  return wasmReady;
}

/** Seeded uniform values in [-1, 1) (mulberry32), so every run and backend sees the same inputs. */
export function seeded(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return values;
}

/** Runs `compute` on one backend and reads every output back. */
export async function runOn(
  backend: 'wasm' | 'cpu',
  compute: () => tf.Tensor | tf.Tensor[],
): Promise<{ shape: number[]; values: Float32Array }[]> {
  if (backend === 'wasm') await startWasm();
  assert.ok(await tf.setBackend(backend), `backend ${backend} did not start`);
  const outputs = tf.tidy(() => {
    const result = compute();
    return Array.isArray(result) ? result : [result];
  });
  const read = await Promise.all(
    outputs.map(async (t) => ({ shape: t.shape, values: Float32Array.from(await t.data()) })),
  );
  tf.dispose(outputs);
  return read;
}

/** Asserts that wasm and the pure-JS backend give the same outputs within `tolerance`. */
export async function assertSameOnBackends(
  compute: () => tf.Tensor | tf.Tensor[],
  label: string,
): Promise<void> {
  const expected = await runOn('cpu', compute);
  const actual = await runOn('wasm', compute);
  assert.equal(actual.length, expected.length, `${label}: output count`);
  actual.forEach((out, i) => {
    const ref = expected[i]!;
    assert.deepEqual(out.shape, ref.shape, `${label}: output ${i} shape`);
    assertClose(out.values, ref.values, `${label}: output ${i}`);
  });
}

export function assertClose(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const excess = Math.abs(a - e) - (tolerance.absolute + tolerance.relative * Math.abs(e));
    if (Number.isNaN(a) !== Number.isNaN(e) || excess > worst) {
      worst = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
      worstAt = i;
    }
  }
  assert.ok(
    worstAt === -1,
    `${label}: element ${worstAt} is ${actual[worstAt]}, expected ${expected[worstAt]} (tolerance ${JSON.stringify(tolerance)})`,
  );
}

/** A float32 tensor of seeded values. */
export function input(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(
    seeded(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
    'float32',
  );
}
