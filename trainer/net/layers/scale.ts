// Scale: y = x ⊙ s (+ b), with s broadcast over x's axes [axis, axis + s's rank). s is a learned blob of
// shape x.shape[axis, axis + num_axes) (num_axes -1: to the end; 0: a scalar), or the second bottom. The
// optional bias (bias_term) is a learned blob of s's shape.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer, type LayerContext } from './layer.js';
import { canonicalAxis } from './params.js';
import { registerLayer } from './registry.js';

const DEFAULT_SCALE_FILLER = { type: 'constant', value: 1 };

export class ScaleLayer extends Layer {
  /** First axis of x that the scale covers. */
  readonly axis: number;
  /** How many axes of x the scale covers. */
  readonly scaleAxes: number;
  readonly biasTerm: boolean;

  constructor(spec: LayerSpec, context: LayerContext) {
    super(spec, { bottoms: { min: 1, max: 2 }, tops: exactly(1) });
    const param = spec.param.scaleParam ?? {};
    const input = this.bottomShape(0);
    this.biasTerm = param.biasTerm ?? false;
    this.scaleAxes =
      spec.bottoms.length === 2 ? this.bottomShape(1).length : numAxesOf(param.numAxes, this.where);
    // Caffe compat: a scalar scale (0 axes) broadcasts over everything, whatever `axis` says.
    this.axis =
      this.scaleAxes === 0 ? 0 : canonicalAxis(param.axis ?? 1, input.length, 'scale_param.axis', this.where);
    if (this.scaleAxes === -1) this.scaleAxes = input.length - this.axis;
    if (this.axis + this.scaleAxes > input.length) {
      throw new BadInputError(
        `scale_param: ${this.scaleAxes} scale axes from axis ${this.axis} exceed the bottom's ${input.length} axes`,
        this.where,
      );
    }
    if (spec.bottoms.length === 1) {
      this.addFilledBlob(
        this.paramShape(0),
        param.filler ?? DEFAULT_SCALE_FILLER,
        'scale_param.filler',
        context.rng,
      );
    }
    if (this.biasTerm) {
      const biasIndex = spec.bottoms.length === 1 ? 1 : 0;
      this.addFilledBlob(
        this.paramShape(biasIndex),
        param.biasFiller,
        'scale_param.bias_filler',
        context.rng,
      );
    }
  }

  forward(bottoms: tf.Tensor[]): tf.Tensor[] {
    const x = bottoms[0]!;
    const scale = bottoms.length === 2 ? bottoms[1]! : this.blobs[0]!;
    const bias = this.biasTerm ? this.blobs[this.blobs.length - 1] : undefined;
    let y = tf.mul(x, this.broadcastable(scale, x.shape));
    if (bias) y = tf.add(y, this.broadcastable(bias, x.shape));
    return [y];
  }

  /** (d_axis, …) → (1, …, d_axis, …, 1, …) so it lines up with x's axes. */
  private broadcastable(t: tf.Tensor, xShape: number[]): tf.Tensor {
    const shape = xShape.map((d, i) => (i >= this.axis && i < this.axis + this.scaleAxes ? d : 1));
    return tf.reshape(t, shape);
  }
}

/** scale_param.num_axes: -1 (to the last axis) or a count, default 1. */
function numAxesOf(value: number | undefined, where: string): number {
  const numAxes = value ?? 1;
  if (!Number.isInteger(numAxes) || numAxes < -1) {
    throw new BadInputError(`scale_param.num_axes: expected -1 or a count >= 0, received ${numAxes}`, where);
  }
  return numAxes;
}

registerLayer('Scale', (spec, context) => new ScaleLayer(spec, context));
