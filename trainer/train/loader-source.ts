// A DataSource over the data loader, so Data and ImageData layers of a net read real batches.
import * as tf from '@tensorflow/tfjs-core';

import type { DataLoader, LoaderPosition } from '../data/loader.js';
import type { DataSource } from '../net/data-source.js';

/** Feeds one data layer: the images as its first top, the labels (shaped as the second top) if it has one. */
export class LoaderDataSource implements DataSource {
  constructor(
    readonly loader: DataLoader,
    private readonly topShapes: number[][],
  ) {}

  async next(): Promise<tf.Tensor[]> {
    const batch = await this.loader.next();
    const tops = [tf.tensor(batch.data, batch.shape, 'float32')];
    const labelShape = this.topShapes[1];
    if (labelShape) tops.push(tf.tensor(batch.labels, labelShape, 'float32'));
    return tops;
  }

  position(): LoaderPosition {
    return this.loader.position();
  }

  close(): Promise<void> {
    return this.loader.close();
  }
}
