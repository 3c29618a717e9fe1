// LRN, local response normalisation, y = x · scale^(-beta), in Caffe's two regions:
//   ACROSS_CHANNELS: scale = k + (alpha / n) · Σ x² over n neighbouring channels (zero outside [0, C));
//   WITHIN_CHANNEL:  scale = 1 + (alpha / n²) · Σ x² over an n×n spatial window (zero-padded; k unused).
// Both sums are written as an average pooling of x², so the layer needs only ops with tfjs gradients on
// every backend (no LRN kernel, no transposes).
import * as tf from '@tensorflow/tfjs-core';
import { BadInputError } from '../../contract/errors.js';
import { NormRegion } from '../../proto/messages.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { lrnAcrossChannels } from './lean-gradients.js';
import { enumValue, finiteNumber, positiveInt, unsupported } from './params.js';
import { registerLayer } from './registry.js';

export interface LrnSettings {
  localSize: number;
  alpha: number;
  beta: number;
  k: number;
  region: number;
}

export class LRNLayer extends Layer {
  readonly settings: LrnSettings;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const param = spec.param.lrnParam;
    const localSize = positiveInt(param?.localSize, 5, 'lrn_param.local_size', this.where);
    if (localSize % 2 === 0) {
      throw new BadInputError(
        `lrn_param.local_size: expected an odd number, received ${localSize}`,
        this.where,
      );
    }
    this.settings = {
      localSize,
      alpha: finiteNumber(param?.alpha, 1, 'lrn_param.alpha', this.where),
      beta: finiteNumber(param?.beta, 0.75, 'lrn_param.beta', this.where),
      k: finiteNumber(param?.k, 1, 'lrn_param.k', this.where),
      region: enumValue(
        param?.normRegion,
        NormRegion.ACROSS_CHANNELS,
        NormRegion,
        'lrn_param.norm_region',
        this.where,
      ),
    };
    const rank = this.bottomShape(0).length;
    if (rank !== 4) unsupported('LRN input', `a ${rank}-axis blob (only NCHW)`, this.where);
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    return [localResponseNormalize(x as tf.Tensor4D, this.settings)];
  }
}

export function localResponseNormalize(x: tf.Tensor4D, settings: LrnSettings): tf.Tensor4D {
  const { localSize, alpha, beta, k, region } = settings;
  const [n, c, h, w] = x.shape;
  // ACROSS_CHANNELS as one op keeping bottom and scale for backward (lean-gradients.ts, which also picks
  // the fastest form for the backend).
  if (region === NormRegion.ACROSS_CHANNELS) return lrnAcrossChannels(x, { localSize, alpha, beta, k });
  const half = (localSize - 1) / 2;
  const squares = tf.square(x);
  // WITHIN_CHANNEL: each plane pooled over an n×n window, zero-padded.
  const planes = tf.reshape(squares, [n * c, h, w, 1]) as tf.Tensor4D;
  const padded = tf.pad(planes, [
    [0, 0],
    [half, half],
    [half, half],
    [0, 0],
  ]);
  const meanOfSquares = tf.avgPool(padded, [localSize, localSize], 1, 'valid');
  // Caffe compat: alpha is divided by the window size (n across channels, n² within a channel), and
  // WITHIN_CHANNEL ignores k: its constant is 1. tf.localResponseNormalization uses alpha as given.
  const scale = tf.add(tf.mul(tf.reshape(meanOfSquares, x.shape), alpha), 1);
  return tf.mul(x, tf.pow(scale, -beta));
}

registerLayer('LRN', (spec) => new LRNLayer(spec));
