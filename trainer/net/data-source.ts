// The hook through which data reaches a net's data layers (Data, ImageData, MemoryData, ...).
//
// A Net built with `dataSources: { <layer name>: source }` replaces that layer by a SourcedDataLayer: before
// each pass the Net awaits `source.next()` once, and the layer's forward returns that batch. Reading and
// decoding are asynchronous, while a pass runs synchronously inside tf.tidy / tf.variableGrads, which is why
// the batch is fetched before the pass rather than in forward. The data helper's loader implements
// DataSource; `caffe time` uses RandomDataSource. (A data layer registered with registerLayer whose forward
// makes its tops synchronously works too, like Input and DummyData.)
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../contract/errors.js';
import type { Rng } from '../rng.js';
import { atLeast, exactly, Layer } from './layers/layer.js';
import type { LayerSpec, Shape } from './spec/types.js';

export interface DataSource {
  /**
   * The next batch: one tensor per top of the layer, each of the top's shape (the spec's topShapes). The Net
   * owns the tensors from then on and disposes them after the pass.
   */
  next(): Promise<tf.Tensor[]>;
}

/** Layer types that read data from outside the net; `caffe time` substitutes random data for them. */
export const EXTERNAL_DATA_TYPES: ReadonlySet<string> = new Set([
  'Data',
  'ImageData',
  'MemoryData',
  'HDF5Data',
  'WindowData',
]);

/** A data layer whose batches come from a DataSource, fetched by the Net before each pass. */
export class SourcedDataLayer extends Layer {
  readonly source: DataSource;
  private batch: tf.Tensor[] | undefined;

  constructor(spec: LayerSpec, source: DataSource) {
    super(spec, { bottoms: exactly(0), tops: atLeast(1) });
    this.source = source;
  }

  /** Fetches the batch the next forward returns, freeing the previous one. */
  async load(): Promise<void> {
    const batch = await this.source.next();
    batch.forEach((t, i) => {
      const expected = this.topShape(i);
      if (t.shape.join('x') !== expected.join('x')) {
        throw new BadInputError(
          `top "${this.spec.tops[i]}": expected a batch of shape ${expected.join('x')}, received ${t.shape.join('x')}`,
          this.where,
        );
      }
    });
    if (batch.length !== this.spec.tops.length) {
      throw new BadInputError(
        `expected ${this.spec.tops.length} tensors per batch, received ${batch.length}`,
        this.where,
      );
    }
    for (const t of this.batch ?? []) t.dispose();
    this.batch = batch;
  }

  forward(_bottoms?: tf.Tensor[], _phase?: number): tf.Tensor[] {
    const batch = this.batch;
    if (!batch) throw new Error(`${this.where}: forward before the Net loaded a batch`);
    return batch.map((t) => tf.clone(t));
  }

  override dispose(): void {
    super.dispose();
    for (const t of this.batch ?? []) t.dispose();
  }
}

/**
 * Random batches in place of real data (for `caffe time`): the first top (the images) uniform in [0, 1),
 * every other top (labels) zeros, which is a valid class index for any loss.
 */
export class RandomDataSource implements DataSource {
  constructor(
    private readonly shapes: Shape[],
    private readonly rng: Rng,
  ) {}

  async next(): Promise<tf.Tensor[]> {
    return this.shapes.map((shape, i) => {
      if (i > 0) return tf.zeros(shape);
      const values = new Float32Array(shape.reduce((n, d) => n * d, 1));
      for (let k = 0; k < values.length; k++) values[k] = this.rng.uniform(0, 1);
      return tf.tensor(values, shape);
    });
  }
}
