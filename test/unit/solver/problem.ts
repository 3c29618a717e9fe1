// A tiny training problem for the solver tests: loss = Σ ½·a·(w − c)² over two parameter blobs, where the
// target c changes with every forward/backward pass, so iter_size averaging and the trajectory matter.
import * as tf from '@tensorflow/tfjs-core';

import type { LearnableParam, TrainNet, TrainPass } from '../../../trainer/solver/index.js';

export const INITIAL = [
  [0.8, -1.5, 2.0],
  [0.3, 1.2],
];
const CURVATURE = [
  [1.0, 2.0, 0.5],
  [3.0, 0.25],
];

/** The target of pass `pass` (0, 1, 2, ... over the whole run). */
export function target(pass: number, param: number, element: number): number {
  return 0.1 * Math.sin(pass + 1.3 * param + 0.7 * element) + 0.05 * param;
}

/** The gradient and loss of one pass, in Float64, for the reference. */
export function referencePass(values: number[][], pass: number): { grads: number[][]; loss: number } {
  let loss = 0;
  const grads = values.map((w, i) =>
    w.map((x, j) => {
      const diff = x - target(pass, i, j);
      const a = CURVATURE[i]![j]!;
      loss += 0.5 * a * diff * diff;
      return a * diff;
    }),
  );
  return { grads, loss };
}

export function makeParams(multipliers: { lrMult: number; decayMult: number }[] = []): LearnableParam[] {
  return INITIAL.map((values, i) => ({
    name: `p${i}`,
    variable: tf.variable(tf.tensor1d(values, 'float32')),
    lrMult: multipliers[i]?.lrMult ?? 1,
    decayMult: multipliers[i]?.decayMult ?? 1,
  }));
}

/** A TrainNet over `params` whose pass counter continues from `firstPass` (for resumed runs). */
export function quadraticNet(params: LearnableParam[], firstPass = 0): TrainNet & { passes: number } {
  const net = {
    name: 'quadratic',
    passes: firstPass,
    async forwardBackward(): Promise<TrainPass> {
      const pass = net.passes++;
      const result = tf.tidy(() => {
        const losses: tf.Scalar[] = [];
        const gradients = params.map((p, i) => {
          const c = tf.tensor1d(
            INITIAL[i]!.map((_, j) => target(pass, i, j)),
            'float32',
          );
          const a = tf.tensor1d(CURVATURE[i]!, 'float32');
          const diff = tf.sub(p.variable, c);
          losses.push(tf.sum(tf.mul(tf.scalar(0.5), tf.mul(a, tf.square(diff)))));
          return tf.mul(a, diff);
        });
        return { gradients, loss: tf.addN(losses) };
      });
      const loss = (await result.loss.data())[0]!;
      result.loss.dispose();
      return {
        loss,
        gradients: result.gradients,
        outputs: [{ name: 'loss', values: [loss], lossWeight: 1 }],
      };
    },
    async forward() {
      const { loss, gradients, outputs } = await net.forwardBackward();
      tf.dispose(gradients);
      return { loss, outputs };
    },
  };
  return net;
}

export function values(params: LearnableParam[]): number[][] {
  return params.map((p) => Array.from(p.variable.dataSync()));
}
