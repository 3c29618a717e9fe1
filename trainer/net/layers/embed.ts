// Embed: a lookup table; top[..., :] = weights[index] (+ bias) for each index in the bottom. Indices get no
// gradient (Caffe cannot compute one); the weights and bias do.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer, type LayerContext } from './layer.js';
import { registerLayer } from './registry.js';

export class EmbedLayer extends Layer {
  readonly inputDim: number;

  constructor(spec: LayerSpec, context: LayerContext) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const param = spec.param.embedParam ?? {};
    this.inputDim = this.paramShape(0)[0]!;
    this.addFilledBlob(this.paramShape(0), param.weightFiller, 'embed_param.weight_filler', context.rng);
    if (spec.paramShapes.length > 1) {
      this.addFilledBlob(this.paramShape(1), param.biasFiller, 'embed_param.bias_filler', context.rng);
    }
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    const values = x!.dataSync();
    const indices = new Int32Array(values.length);
    values.forEach((v, i) => {
      if (!(Number.isInteger(v) && v >= 0 && v < this.inputDim)) {
        throw new BadInputError(
          `bottom value ${i}: expected an integer index in [0, ${this.inputDim}), received ${v}`,
          this.where,
        );
      }
      indices[i] = v;
    });
    const [weights, bias] = this.blobs;
    let y = tf.gather(weights!, tf.tensor1d(indices, 'int32'));
    if (bias) y = tf.add(y, bias);
    return [tf.reshape(y, this.topShape(0))];
  }
}

registerLayer('Embed', (spec, context) => new EmbedLayer(spec, context));
