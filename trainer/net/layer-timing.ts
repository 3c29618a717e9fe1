// Per-layer forward and backward times of one pass, for `caffe time`.
//
// tfjs has no per-layer backward: the whole-net gradient is one tape. So a layer's backward is timed as its
// vector-Jacobian product: the layer's forward is re-run under tf.variableGrads with a random upstream
// gradient on its tops, and the time after that forward (the backprop through the tape) is the layer's
// backward time. Gradients go to the bottoms that need one and to the trainable blobs, as in Caffe's
// Backward. The CPU, wasm and native backends run ops eagerly, so wall time around a call is its compute time.
import * as tf from '@tensorflow/tfjs-core';

import type { BackwardPlan } from './backward-plan.js';
import type { Net } from './net.js';

export interface PassTimes {
  /** Milliseconds per layer, net order. Layers whose backward does not run get 0. */
  forward: number[];
  backward: number[];
}

/** Times every layer's forward, then every needed layer's backward (in reverse order), on the loaded batch. */
export function timeLayers(net: Net, plan: BackwardPlan, now: () => number): PassTimes {
  return tf.tidy(() => {
    const blobs = new Map<string, tf.Tensor>();
    const inputs: tf.Tensor[][] = [];
    const forward = net.layers.map((layer) => {
      const bottoms = layer.spec.bottoms.map((name) => blobs.get(name)!);
      inputs.push(bottoms);
      const start = now();
      const tops = layer.forward(bottoms, net.phase);
      const elapsed = now() - start;
      tops.forEach((top, k) => {
        blobs.set(layer.spec.tops[k]!, top);
      });
      return elapsed;
    });
    const backward: number[] = new Array(net.layers.length).fill(0);
    for (let l = net.layers.length - 1; l >= 0; l--) {
      if (!plan.layerNeedsBackward[l]) continue;
      backward[l] = timeBackward(net, l, inputs[l]!, plan.bottomNeedsGradient[l] ?? [], now);
    }
    return { forward, backward };
  });
}

function timeBackward(
  net: Net,
  l: number,
  bottoms: tf.Tensor[],
  needs: boolean[],
  now: () => number,
): number {
  const layer = net.layers[l]!;
  const upstream = layer.spec.topShapes.map((shape) => tf.randomUniform(shape, -1, 1));
  const bottomVars = new Map<number, tf.Variable>();
  needs.forEach((need, i) => {
    if (need) bottomVars.set(i, tf.variable(bottoms[i]!, true));
  });
  const varList = [...bottomVars.values(), ...layer.blobs.filter((b) => b.trainable)];
  let forwardDone = 0;
  const { value, grads } = tf.variableGrads(() => {
    const inputs = bottoms.map((b, i) => bottomVars.get(i) ?? b);
    const tops = layer.forward(inputs, net.phase);
    forwardDone = now();
    return tops.reduce<tf.Scalar>(
      (sum, top, k) => tf.add(sum, tf.sum(tf.mul(top, upstream[k]!))),
      tf.scalar(0),
    );
  }, varList);
  const elapsed = now() - forwardDone;
  value.dispose();
  for (const grad of Object.values(grads)) grad?.dispose();
  for (const v of bottomVars.values()) v.dispose();
  return elapsed;
}
