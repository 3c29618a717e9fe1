// Bias: top = bottom 0 + bias, the bias (bottom 1, or a learned blob filled by bias_param.filler, constant 0
// by default) broadcast over bottom 0's axes outside the ones it covers (see spec/rules/bias.ts).
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { Layer, type LayerContext } from './layer.js';
import { registerLayer } from './registry.js';

export class BiasLayer extends Layer {
  private readonly broadcastShape: number[];

  constructor(spec: LayerSpec, context: LayerContext) {
    super(spec, { bottoms: { min: 1, max: 2 }, tops: { min: 1, max: 1 } });
    const bottom = this.bottomShape(0);
    const biasShape = spec.bottoms.length === 2 ? this.bottomShape(1) : this.paramShape(0);
    const param = spec.param.biasParam ?? {};
    const axis = biasShape.length === 0 ? bottom.length : axisOf(param.axis ?? 1, bottom.length);
    this.broadcastShape = [
      ...Array<number>(axis).fill(1),
      ...biasShape,
      ...Array<number>(bottom.length - axis - biasShape.length).fill(1),
    ];
    if (spec.bottoms.length === 1) {
      const filler = param.filler ?? { type: 'constant', value: 0 };
      this.addFilledBlob(biasShape, filler, 'bias_param.filler', context.rng);
    }
  }

  forward([x, given]: tf.Tensor[]): tf.Tensor[] {
    const bias = given ?? this.blobs[0]!;
    return [tf.add(x!, tf.reshape(bias, this.broadcastShape))];
  }
}

function axisOf(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

registerLayer('Bias', (spec, context) => new BiasLayer(spec, context));
