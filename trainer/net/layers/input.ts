// Input: declares net inputs of input_param.shape. The Net (or `caffe classify`) feeds their values; an
// input that was never fed reads as zeros, as in `caffe time`.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import type { LayerSpec } from '../spec/types.js';
import { atLeast, exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

export class InputLayer extends Layer {
  private fed: tf.Tensor[] | undefined;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(0), tops: atLeast(1) });
  }

  /** Sets the values the next forward passes return, one tensor per top, each of the top's shape. */
  feed(values: tf.Tensor[]): void {
    if (values.length !== this.spec.tops.length) {
      throw new BadInputError(
        `expected ${this.spec.tops.length} input tensor(s), received ${values.length}`,
        this.where,
      );
    }
    values.forEach((value, i) => {
      const expected = this.topShape(i);
      if (value.shape.join('x') !== expected.join('x')) {
        throw new BadInputError(
          `top "${this.spec.tops[i]}": expected shape ${expected.join('x')}, received ${value.shape.join('x')}`,
          this.where,
        );
      }
    });
    this.fed = values;
  }

  forward(_bottoms?: tf.Tensor[], _phase?: number): tf.Tensor[] {
    return this.spec.tops.map((_, i) => (this.fed ? tf.clone(this.fed[i]!) : tf.zeros(this.topShape(i))));
  }
}

registerLayer('Input', (spec) => new InputLayer(spec));
