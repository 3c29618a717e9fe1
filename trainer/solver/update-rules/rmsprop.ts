// RMSProp (BVLC/caffe src/caffe/solvers/rmsprop_solver.cpp): MS ← rms_decay·MS + (1 − rms_decay)·g²; step =
// local_rate · g / (√MS + delta).
import * as tf from '@tensorflow/tfjs-core';

import { axpby, registerUpdateRule, scalar, type UpdateInput, type UpdateStep } from './registry.js';

export function rmsPropStep({ diff, history, localRate, settings }: UpdateInput): UpdateStep {
  const { rmsDecay, delta } = settings;
  const meanSquare = axpby(1 - rmsDecay, tf.square(diff), rmsDecay, history[0]!);
  const scaled = tf.div(diff, tf.add(tf.sqrt(meanSquare), scalar(delta)));
  return { step: tf.mul(scalar(localRate), scaled), history: [meanSquare] };
}

registerUpdateRule({ type: 'RMSProp', historySlots: 1, computeStep: rmsPropStep });
