// AdaGrad (BVLC/caffe src/caffe/solvers/adagrad_solver.cpp): H ← H + g²; step = local_rate · g / (√H +
// delta).
import * as tf from '@tensorflow/tfjs-core';

import { registerUpdateRule, scalar, type UpdateInput, type UpdateStep } from './registry.js';

export function adaGradStep({ diff, history, localRate, settings }: UpdateInput): UpdateStep {
  const sumOfSquares = tf.add(history[0]!, tf.square(diff));
  const scaled = tf.div(diff, tf.add(tf.sqrt(sumOfSquares), scalar(settings.delta)));
  return { step: tf.mul(scalar(localRate), scaled), history: [sumOfSquares] };
}

registerUpdateRule({ type: 'AdaGrad', historySlots: 1, computeStep: adaGradStep });
