// BatchReindex: top item i = data item indices[i]. The data's gradient sums the top diffs of every place an
// item was copied to; the indices get none, as in Caffe.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../contract/errors.js';
import type { LayerSpec } from '../spec/types.js';
import { exactly, Layer } from './layer.js';
import { registerLayer } from './registry.js';

export class BatchReindexLayer extends Layer {
  constructor(spec: LayerSpec) {
    super(spec, { bottoms: exactly(2), tops: exactly(1) });
  }

  forward([data, indices]: tf.Tensor[]): tf.Tensor[] {
    const items = this.bottomShape(0)[0]!;
    const values = Int32Array.from(indices!.dataSync(), (v, i) => {
      if (!(Number.isInteger(v) && v >= 0 && v < items)) {
        throw new BadInputError(
          `bottom 1 value ${i}: expected an index in [0, ${items}), received ${v}`,
          this.where,
        );
      }
      return v;
    });
    return [tf.gather(data!, tf.tensor1d(values, 'int32'))];
  }
}

registerLayer('BatchReindex', (spec) => new BatchReindexLayer(spec));
