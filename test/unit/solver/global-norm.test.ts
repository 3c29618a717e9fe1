// clip_gradients' global L2 norm, summed as Caffe's ClipGradients does (per blob cblas_sdot, then the float32
// sum over blobs, then sqrt), checked against a float64 reference on the pure-JS and the wasm backends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { Rng } from '../../../trainer/rng.js';
import { globalL2Norm } from '../../../trainer/solver/index.js';
import { startWasm } from '../backend/compare.js';

/** Three diff blobs of LeNet's sizes (conv1, conv2, ip1 weights), values uniform in [-s, s) from a seeded Rng. */
function lenetSizedDiffs(seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return [500, 25_000, 400_000].map((n, b) => {
    const values = new Float32Array(n);
    const scale = 0.01 * (b + 1);
    for (let i = 0; i < n; i++) values[i] = rng.uniform(-scale, scale);
    return values;
  });
}

/** sqrt of the exact sum of squares: every element's square added in float64. */
function float64Norm(blobs: Float32Array[]): number {
  let sum = 0;
  for (const blob of blobs) for (const x of blob) sum += x * x;
  return Math.sqrt(sum);
}

/** The sum our norm used to be on backends that add in float32: one element after another. */
function sequentialFloat32Norm(blobs: Float32Array[]): number {
  let total = 0;
  for (const blob of blobs) {
    let dot = 0;
    for (const x of blob) dot = Math.fround(dot + Math.fround(x * x));
    total = Math.fround(total + dot);
  }
  return Math.fround(Math.sqrt(total));
}

// A few float32 roundings (each blob's sdot result, two additions, the sqrt): 4 ulps of float32 at most.
const ULPS = 4 * 2 ** -23;

describe('globalL2Norm', () => {
  const blobs = lenetSizedDiffs(11);
  const exact = float64Norm(blobs);

  it('the case separates the two sums: a sequential float32 sum is many ulps off the float64 norm', () => {
    const drift = Math.abs(sequentialFloat32Norm(blobs) - exact) / exact;
    assert.ok(drift > 10 * ULPS, `sequential float32 drift ${drift} is within ${10 * ULPS}`);
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`is the float64 norm to a few float32 ulps on the ${backend} backend`, async () => {
      if (backend === 'wasm') await startWasm();
      assert.ok(await tf.setBackend(backend));
      const diffs = blobs.map((b) => tf.tensor1d(b));
      try {
        const norm = await globalL2Norm(diffs);
        assert.equal(norm, Math.fround(norm), 'a float32 value, as Caffe’s Dtype');
        const relative = Math.abs(norm - exact) / exact;
        assert.ok(relative <= ULPS, `norm ${norm}, float64 ${exact}: relative error ${relative} > ${ULPS}`);
      } finally {
        tf.dispose(diffs);
      }
    });
  }
});
