// The arithmetic a forward-backward pass of a net cannot avoid: the multiply-adds of its Convolution and
// InnerProduct layers (everything else in a CaffeNet-like net is a few operations per element). With a
// library's measured matrix-product rate this gives the fastest a pass can be on that library, which the
// trainer bench prints beside the measured times.
import { backwardPlan } from '../../trainer/net/backward-plan.js';
import type { NetSpec } from '../../trainer/net/spec/index.js';

const product = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** Floating-point operations (2 per multiply-add) of one forward and one backward pass. */
export function forwardBackwardFlops(spec: NetSpec): { forward: number; backward: number } {
  const plan = backwardPlan(
    spec,
    spec.layers.map((layer) => layer.paramShapes.length > 0),
  );
  let forward = 0;
  let backward = 0;
  spec.layers.forEach((layer, i) => {
    if (!['Convolution', 'InnerProduct', 'Deconvolution'].includes(layer.type)) return;
    const weights = layer.paramShapes[0];
    if (!weights) return;
    // Each output (input, for Deconvolution) element is a dot product over one filter's worth of weights.
    const outputs = product(layer.type === 'Deconvolution' ? layer.bottomShapes[0]! : layer.topShapes[0]!);
    const perOutput =
      product(weights) / (layer.type === 'InnerProduct' ? layer.topShapes[0]!.at(-1)! : weights[0]!);
    const macs = outputs * perOutput;
    forward += 2 * macs;
    if (!plan.layerNeedsBackward[i]) return;
    backward += 2 * macs; // the weight gradient
    if (plan.bottomNeedsGradient[i]?.[0]) backward += 2 * macs; // the input gradient
  });
  return { forward, backward };
}
