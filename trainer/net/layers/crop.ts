// Crop: bottom 0 cut to the top shape (bottom 1's on the cropped axes) from the offsets spec/rules/crop.ts
// checked. Bottom 1 only gives the shape; it gets no gradient, as in Caffe.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

export class CropLayer extends Layer {
  readonly offsets: number[];

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(2), tops: exactly(1) });
    const source = this.bottomShape(0);
    const given = spec.param.cropParam?.offset ?? [];
    const rawAxis = spec.param.cropParam?.axis ?? 2;
    const axis = rawAxis < 0 ? rawAxis + source.length : rawAxis;
    this.offsets = source.map((_, i) =>
      i < axis ? 0 : given.length === 0 ? 0 : given.length === 1 ? given[0]! : given[i - axis]!,
    );
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    return [tf.slice(x!, this.offsets, this.topShape(0))];
  }
}

registerLayer('Crop', (spec) => new CropLayer(spec));
