// Adam (BVLC/caffe src/caffe/solvers/adam_solver.cpp): β1 = momentum, β2 = momentum2, ε = delta. History
// slot 0 is m, slot 1 is v; a .solverstate holds every m, then every v.
import * as tf from '@tensorflow/tfjs-core';

import { axpby, registerUpdateRule, scalar, type UpdateInput, type UpdateStep } from './registry.js';

export function adamStep({ diff, history, localRate, iter, settings }: UpdateInput): UpdateStep {
  const { momentum: beta1, momentum2: beta2, delta } = settings;
  const t = iter + 1;
  // Caffe computes the bias correction in double and keeps it as a float.
  const correction = Math.fround(Math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t));
  const m = axpby(1 - beta1, diff, beta1, history[0]!);
  const v = axpby(1 - beta2, tf.square(diff), beta2, history[1]!);
  const direction = tf.div(m, tf.add(tf.sqrt(v), scalar(delta)));
  return { step: tf.mul(scalar(Math.fround(localRate * correction)), direction), history: [m, v] };
}

registerUpdateRule({ type: 'Adam', historySlots: 2, computeStep: adamStep });
