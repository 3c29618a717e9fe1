// The steps every solver type shares before its own update (SGDSolver::ApplyUpdate in BVLC/caffe
// src/caffe/solvers/sgd_solver.cpp): clipping by the global L2 norm, normalising over iter_size, and L1/L2
// weight decay.
import * as tf from '@tensorflow/tfjs-core';

import type { SolverSettings } from './config.js';

/** sqrt(Σ over all parameters of Σ diff²), summed in float32 as Caffe does. */
export async function globalL2Norm(diffs: readonly tf.Tensor[]): Promise<number> {
  const sums = tf.tidy(() => tf.stack(diffs.map((diff) => tf.sum(tf.square(diff)))));
  const perParam = await sums.data();
  sums.dispose();
  let total = 0;
  for (const sum of perParam) total = Math.fround(total + sum);
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
