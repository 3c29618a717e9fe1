// AdaDelta (BVLC/caffe src/caffe/solvers/adadelta_solver.cpp), with `momentum` as the decay ρ. History slot
// 0 is the running mean of g², slot 1 the running mean of squared updates; a .solverstate holds all slot-0
// blobs, then all slot-1 blobs.
import * as tf from '@tensorflow/tfjs-core';

import { axpby, registerUpdateRule, scalar, type UpdateInput, type UpdateStep } from './registry.js';

export function adaDeltaStep({ diff, history, localRate, settings }: UpdateInput): UpdateStep {
  const { momentum, delta } = settings;
  const gradientMean = axpby(1 - momentum, tf.square(diff), momentum, history[0]!);
  const ratio = tf.div(tf.add(history[1]!, scalar(delta)), tf.add(gradientMean, scalar(delta)));
  const update = tf.mul(diff, tf.sqrt(ratio));
  const updateMean = axpby(1 - momentum, tf.square(update), momentum, history[1]!);
  return { step: tf.mul(scalar(localRate), update), history: [gradientMean, updateMean] };
}

registerUpdateRule({ type: 'AdaDelta', historySlots: 2, computeStep: adaDeltaStep });
