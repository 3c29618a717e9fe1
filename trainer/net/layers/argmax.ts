// ArgMax: for each slice along the axis (or each item, when argmax_param.axis is unset), the indices of its
// top_k largest values, largest first; with out_max_val, the values (given an axis) or indices then values
// (without). Ties go to the higher index, as Caffe's sort of (value, index) pairs. No gradient, as in Caffe.
import * as tf from '@tensorflow/tfjs-core';

import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { countOf } from './params.js';
import { registerLayer } from './registry.js';

export class ArgMaxLayer extends Layer {
  readonly topK: number;
  readonly outMaxVal: boolean;
  /** The axis, or undefined for "all of each item". */
  readonly axis: number | undefined;

  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(1), tops: exactly(1) });
    const param = spec.param.argmaxParam ?? {};
    this.topK = param.topK ?? 1;
    this.outMaxVal = param.outMaxVal ?? false;
    const rank = this.bottomShape(0).length;
    this.axis = param.axis === undefined ? undefined : param.axis < 0 ? param.axis + rank : param.axis;
  }

  forward([x]: tf.Tensor[]): tf.Tensor[] {
    const bottom = this.bottomShape(0);
    const data = x!.dataSync();
    const dim = this.axis === undefined ? countOf(bottom.slice(1)) : bottom[this.axis]!;
    const stride = this.axis === undefined ? 1 : countOf(bottom.slice(this.axis + 1));
    const slices = data.length / dim;
    const out = new Float32Array(countOf(this.topShape(0)));
    const k = this.topK;
    for (let i = 0; i < slices; i++) {
      const base = Math.floor(i / stride) * dim * stride + (i % stride);
      const order = Array.from({ length: dim }, (_, j) => j).sort((a, b) => {
        const va = data[base + a * stride]!;
        const vb = data[base + b * stride]!;
        return vb - va || b - a;
      });
      for (let j = 0; j < k; j++) {
        const index = order[j]!;
        const value = data[base + index * stride]!;
        if (this.axis !== undefined) {
          out[Math.floor(i / stride) * k * stride + j * stride + (i % stride)] = this.outMaxVal
            ? value
            : index;
        } else if (this.outMaxVal) {
          out[2 * i * k + j] = index;
          out[2 * i * k + k + j] = value;
        } else {
          out[i * k + j] = index;
        }
      }
    }
    return [tf.tensor(out, this.topShape(0))];
  }
}

registerLayer('ArgMax', (spec) => new ArgMaxLayer(spec));
