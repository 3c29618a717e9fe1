// PReLU: y = max(0, x) + a · min(0, x) with a learned slope a per channel (axis 1), or one shared by all
// channels (prelu_param.channel_shared, a scalar blob as in Caffe). Slopes start from prelu_param.filler,
// constant 0.25 by default. The derivative at exactly 0 is a, as Caffe's.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer, type LayerContext } from './layer.js';
import { registerLayer } from './registry.js';

export class PReLULayer extends Layer {
  private readonly broadcastShape: number[];

  constructor(spec: LayerSpec, context: LayerContext) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const param = spec.param.preluParam ?? {};
    const filler = param.filler ?? { type: 'constant', value: 0.25 };
    this.addFilledBlob(this.paramShape(0), filler, 'prelu_param.filler', context.rng);
    const rank = this.bottomShape(0).length;
    this.broadcastShape = param.channelShared
      ? []
      : [1, this.bottomShape(0)[1]!, ...Array<number>(rank - 2).fill(1)];
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    const slope = tf.reshape(this.blobs[0]!, this.broadcastShape);
    // relu(x) + a (x - relu(x)): relu's gradient at 0 is 0, so there dy/dx = a, as Caffe's.
    const positive = tf.relu(x!);
    return [tf.add(positive, tf.mul(tf.sub(x!, positive), slope))];
  }
}

registerLayer('PReLU', (spec, context) => new PReLULayer(spec, context));
