// A .caffemodel-shaped NetParameter with seeded random weights for a net spec, for round-trip tests.

import type { NetSpec } from '../../../trainer/net/spec/index.js';
import { paramBlobs } from '../../../trainer/net/spec/index.js';
import type { BlobProto, LayerParameter, NetParameter } from '../../../trainer/proto/index.js';

/** A small linear congruential generator: reproducible values in [-1, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

/** Every layer of the spec; layers with parameters carry `blobs` of random values in their shapes. */
export function randomCaffemodel(spec: NetSpec, seed: number): NetParameter {
  const random = seededRandom(seed);
  const blobs = new Map<string, BlobProto[]>();
  for (const blob of paramBlobs(spec)) {
    const size = blob.shape.reduce((n, d) => n * d, 1);
    const list = blobs.get(blob.layer) ?? [];
    list.push({ shape: { dim: blob.shape }, data: Float32Array.from({ length: size }, random) });
    blobs.set(blob.layer, list);
  }
  const layer: LayerParameter[] = spec.layers.map((l) => {
    const own = blobs.get(l.name);
    return own ? { ...l.param, blobs: own } : { ...l.param };
  });
  return { name: spec.name, layer };
}
