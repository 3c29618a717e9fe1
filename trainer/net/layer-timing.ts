// Per-layer forward and backward times of one pass, for `caffe time`.
//
// tfjs has no per-layer backward: the whole-net gradient is one tape. So a layer's backward is timed as its
// vector-Jacobian product: the layer's forward is re-run under tf.variableGrads with a random upstream
// gradient on its tops, and the time after that forward (the backprop through the tape) is the layer's
// backward time. As in the benchmark loop of time() in Caffe's tools/caffe.cpp, every layer's Backward is
// called whether or not the net has a loss (a deploy net too): gradients go to the bottoms Net::Init marked
// as needing one and to every parameter blob with a non-zero lr_mult (Caffe's param_propagate_down), so a
// layer with learnable parameters always computes them. A layer with neither does nothing. The CPU, wasm and native backends run ops eagerly, so wall time around a call is its compute time.
import * as tf from '@tensorflow/tfjs-core';

import type { BackwardPlan } from './backward-plan.js';
import type { Net } from './net.js';

/** What each layer's timed backward computes. */
export interface TimingPlan {
  /** Per layer, per bottom: does the gradient flow into this bottom (Net::Init's bottom_need_backward)? */
  bottomNeedsGradient: boolean[][];
  /** Per layer, per parameter blob: is its gradient computed (trainable, lr_mult != 0)? */
  paramNeedsGradient: boolean[][];
}

/** The timing plan of a net: its backward plan's bottoms and every learnable blob with lr_mult != 0. */
export function timingPlan(net: Net, plan: BackwardPlan = net.backwardPlan()): TimingPlan {
  const learning = new Set(
    net
      .learnableParams()
      .filter((p) => p.lrMult !== 0 && p.variable.trainable)
      .map((p) => p.variable),
  );
  return {
    bottomNeedsGradient: plan.bottomNeedsGradient,
    paramNeedsGradient: net.layers.map((layer) => layer.blobs.map((b) => learning.has(b))),
  };
}

export interface PassTimes {
  /** Milliseconds per layer, net order. Layers whose backward computes nothing get 0. */
  forward: number[];
  backward: number[];
}

/** Times every layer's forward, then every layer's backward (in reverse order), on the loaded batch. */
export function timeLayers(net: Net, plan: TimingPlan, now: () => number): PassTimes {
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
      const bottoms = plan.bottomNeedsGradient[l] ?? [];
      const params = plan.paramNeedsGradient[l] ?? [];
      if (!bottoms.some(Boolean) && !params.some(Boolean)) continue;
      backward[l] = timeBackward(net, l, inputs[l]!, bottoms, params, now);
    }
    return { forward, backward };
  });
}

function timeBackward(
  net: Net,
  l: number,
  bottoms: tf.Tensor[],
  needs: boolean[],
  paramNeeds: boolean[],
  now: () => number,
): number {
  const layer = net.layers[l]!;
  const upstream = layer.spec.topShapes.map((shape) => tf.randomUniform(shape, -1, 1));
  const bottomVars = new Map<number, tf.Variable>();
  needs.forEach((need, i) => {
    if (need) bottomVars.set(i, tf.variable(bottoms[i]!, true));
  });
  const varList = [...bottomVars.values(), ...layer.blobs.filter((_, i) => paramNeeds[i])];
  let forwardDone = 0;
  const inputs = bottoms.map((b, i) => bottomVars.get(i) ?? b);
  let value: tf.Tensor;
  let grads: (tf.Tensor | undefined)[];
  if (upstream.length === 1) {
    // One top: the upstream gradient goes in as the tape's dy, so the timed part is the layer's own
    // backward alone, as Caffe's Backward is.
    ({ value, grads } = tf.engine().gradients(
      () => {
        const top = layer.forward(inputs, net.phase)[0]!;
        forwardDone = now();
        return top;
      },
      varList,
      upstream[0]!,
      true,
    ));
  } else {
    // Several tops: one scalar Σ top·upstream, whose few extra elementwise ops the time includes.
    const result = tf.variableGrads(() => {
      const tops = layer.forward(inputs, net.phase);
      forwardDone = now();
      return tops.reduce<tf.Scalar>(
        (sum, top, k) => tf.add(sum, tf.sum(tf.mul(top, upstream[k]!))),
        tf.scalar(0),
      );
    }, varList);
    value = result.value;
    grads = Object.values(result.grads);
  }
  const elapsed = now() - forwardDone;
  value.dispose();
  for (const grad of grads) grad?.dispose();
  for (const v of bottomVars.values()) v.dispose();
  return elapsed;
}
