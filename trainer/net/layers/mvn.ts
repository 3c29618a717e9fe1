// MVN: subtracts the mean of each item's channel (axes 2..), or of each item (axes 1..) with
// across_channels; with normalize_variance (the default) also divides by (standard deviation + eps).
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { countOf, finiteNumber } from './params.js';
import { registerLayer } from './registry.js';

export class MVNLayer extends Layer {
  readonly normalizeVariance: boolean;
  readonly acrossChannels: boolean;
  readonly eps: number;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const param = spec.param.mvnParam ?? {};
    this.normalizeVariance = param.normalizeVariance ?? true;
    this.acrossChannels = param.acrossChannels ?? false;
    this.eps = finiteNumber(param.eps, 1e-9, 'mvn_param.eps', this.where);
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    const shape = this.bottomShape(0);
    const groups = countOf(shape.slice(0, this.acrossChannels ? 1 : 2));
    const rows = tf.reshape(x!, [groups, -1]);
    const centred = tf.sub(rows, tf.mean(rows, 1, true));
    if (!this.normalizeVariance) return [tf.reshape(centred, shape)];
    const deviation = tf.sqrt(tf.mean(tf.square(centred), 1, true));
    return [tf.reshape(tf.div(centred, tf.add(deviation, this.eps)), shape)];
  }
}

registerLayer('MVN', (spec) => new MVNLayer(spec));
