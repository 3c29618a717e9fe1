// Slice: cuts its bottom along one axis into its tops (the net spec worked out each top's shape).
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { atLeast, exactly, Layer } from './layer.js';
import { canonicalAxis } from './params.js';
import { registerLayer } from './registry.js';

export class SliceLayer extends Layer {
  readonly axis: number;
  readonly sizes: number[];

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: atLeast(1) });
    const param = spec.param.sliceParam;
    const field = param?.sliceDim !== undefined ? 'slice_param.slice_dim' : 'slice_param.axis';
    this.axis = canonicalAxis(
      param?.sliceDim ?? param?.axis ?? 1,
      this.bottomShape(0).length,
      field,
      this.where,
    );
    this.sizes = spec.tops.map((_, i) => this.topShape(i)[this.axis]!);
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    return this.sizes.length === 1 ? [tf.clone(x!)] : tf.split(x!, this.sizes, this.axis);
  }
}

registerLayer('Slice', (spec) => new SliceLayer(spec));
