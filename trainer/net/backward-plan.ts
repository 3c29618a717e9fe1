// Which layers and blobs take part in the backward pass, decided from the spec alone as Caffe's Net::Init
// does: a layer contributes to the loss when one of its tops has a loss weight or feeds a layer that
// contributes; a blob needs a gradient when it comes from a layer with learnable parameters or from a
// layer whose bottoms need one. Data tops and labels never need one.
import type { NetSpec } from './spec/types.js';

export interface BackwardPlan {
  /** Per layer (net order): does its backward run? */
  layerNeedsBackward: boolean[];
  /** Per layer, per bottom: does the gradient flow into this bottom? */
  bottomNeedsGradient: boolean[][];
}

/** `hasLearnable[i]`: layer i has a trainable parameter blob. */
export function backwardPlan(spec: NetSpec, hasLearnable: boolean[]): BackwardPlan {
  const layers = spec.layers;
  // Forward walk: does the blob a layer reads depend on a learnable parameter? (In-place tops update it.)
  const reading = new Set<string>();
  const dependsAtRead = layers.map((layer, i) => {
    const flags = layer.bottoms.map((b) => reading.has(b));
    const depends = (hasLearnable[i] ?? false) || flags.some(Boolean);
    for (const top of layer.tops) {
      if (depends) reading.add(top);
      else reading.delete(top);
    }
    return { flags, depends };
  });
  // Backward walk from the loss: which layers' tops reach a weighted top.
  const contributing = new Set<string>();
  const contributes: boolean[] = new Array(layers.length).fill(false);
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    contributes[i] = layer.lossWeights.some((w) => w !== 0) || layer.tops.some((t) => contributing.has(t));
    if (contributes[i]) for (const bottom of layer.bottoms) contributing.add(bottom);
  }
  const layerNeedsBackward = dependsAtRead.map((d, i) => d.depends && (contributes[i] ?? false));
  const bottomNeedsGradient = dependsAtRead.map((d, i) =>
    d.flags.map((f) => f && (layerNeedsBackward[i] ?? false)),
  );
  return { layerNeedsBackward, bottomNeedsGradient };
}
