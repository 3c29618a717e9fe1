// The learnable parameters of a net spec: one entry per parameter blob in net order, shared blobs
// (a ParamSpec name used by an earlier layer) counted once, as Caffe's learnable_params().
import type { NetSpec, Shape } from './types.js';
import { count } from './types.js';

export interface ParamBlob {
  layer: string;
  index: number;
  shape: Shape;
  /** The owner's layer and index when this blob shares an earlier layer's blob by ParamSpec name. */
  sharedWith?: { layer: string; index: number };
}

export function paramBlobs(spec: NetSpec): ParamBlob[] {
  const owners = new Map<string, { layer: string; index: number }>();
  const blobs: ParamBlob[] = [];
  for (const layer of spec.layers) {
    layer.paramShapes.forEach((shape, index) => {
      const name = layer.param.param?.[index]?.name;
      const owner = name ? owners.get(name) : undefined;
      if (name && !owner) owners.set(name, { layer: layer.name, index });
      blobs.push(
        owner ? { layer: layer.name, index, shape, sharedWith: owner } : { layer: layer.name, index, shape },
      );
    });
  }
  return blobs;
}

/** Totals over the blobs that are not shared: how many blobs, how many numbers. */
export function learnableTotals(spec: NetSpec): { blobs: number; parameters: number } {
  const own = paramBlobs(spec).filter((b) => !b.sharedWith);
  return { blobs: own.length, parameters: own.reduce((n, b) => n + count(b.shape), 0) };
}
