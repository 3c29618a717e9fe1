// The steps every solver type shares before its own update (SGDSolver::ApplyUpdate in BVLC/caffe
// src/caffe/solvers/sgd_solver.cpp): clipping by the global L2 norm, normalising over iter_size, and L1/L2
// weight decay.
import * as tf from '@tensorflow/tfjs-core';

import type { SolverSettings } from './config.js';

/**
 * Caffe's SGDSolver::ClipGradients norm: per parameter blob its sumsq_diff, a dot product of the diff with
 * itself (caffe_cpu_dot, i.e. cblas_sdot), then the sum over blobs in Dtype (float32), then std::sqrt.
 * cblas_sdot returns a float but does not add up in float32 one element after another: OpenBLAS's sdot
 * kernels keep many partial sums in vector lanes and the remainder in a double, so its result is the
 * float32 rounding of a far more exact sum. A sequential float32 sum (tf.sum on some backends) drifts by
 * about 1e-4 relative over a LeNet-sized blob, enough to move losses by 1e-5 within ten iterations; so
 * each blob's sum of squares is taken here in float64 (float32 products are exact in a double) and
 * rounded to float32 once, as sdot returns it. The diffs are read back to the CPU, only when clipping is on.
 */
export async function globalL2Norm(diffs: readonly tf.Tensor[]): Promise<number> {
  let total = 0;
  for (const diff of diffs) {
    const values = await diff.data();
    let dot = 0;
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      dot += x * x;
    }
    total = Math.fround(total + Math.fround(dot));
  }
  return Math.fround(Math.sqrt(total));
}

/** The factor to scale every diff by, or undefined when clipping is off or the norm is within bounds. */
export function clipScale(norm: number, clipGradients: number): number | undefined {
  if (clipGradients < 0 || !(norm > clipGradients)) return undefined;
  return Math.fround(clipGradients / norm);
}

export interface ParamGradientSettings {
  iterSize: SolverSettings['iterSize'];
  regularizationType: SolverSettings['regularizationType'];
  /** weight_decay × decay_mult of this parameter. */
  localDecay: number;
}

/**
 * One parameter's diff after Caffe's Normalize and Regularize: divided by iter_size (when > 1), then
 * local_decay·W (L2) or local_decay·sign(W) (L1) added. Returns a new tensor; the caller disposes it.
 */
export function normalizeAndRegularize(
  diff: tf.Tensor,
  value: tf.Tensor,
  { iterSize, regularizationType, localDecay }: ParamGradientSettings,
): tf.Tensor {
  return tf.tidy(() => {
    let g = iterSize > 1 ? tf.mul(diff, tf.scalar(Math.fround(1 / iterSize), 'float32')) : tf.clone(diff);
    if (localDecay !== 0) {
      const toward = regularizationType === 'L2' ? value : tf.sign(value);
      g = tf.add(g, tf.mul(tf.scalar(localDecay, 'float32'), toward));
    }
    return g;
  });
}
