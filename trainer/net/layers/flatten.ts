// Flatten: merges axes axis..end_axis (defaults 1 and -1) into one, so (N, C, H, W) becomes (N, C·H·W).
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { canonicalAxis } from './params.js';
import { registerLayer } from './registry.js';

export class FlattenLayer extends Layer {
  readonly startAxis: number;
  readonly endAxis: number;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const rank = this.bottomShape(0).length;
    const param = spec.param.flattenParam;
    this.startAxis = canonicalAxis(param?.axis ?? 1, rank, 'flatten_param.axis', this.where);
    this.endAxis = canonicalAxis(param?.endAxis ?? -1, rank, 'flatten_param.end_axis', this.where);
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    const shape = x!.shape;
    const merged = shape.slice(this.startAxis, this.endAxis + 1).reduce((n, d) => n * d, 1);
    return [tf.reshape(x!, [...shape.slice(0, this.startAxis), merged, ...shape.slice(this.endAxis + 1)])];
  }
}

registerLayer('Flatten', (spec) => new FlattenLayer(spec));
