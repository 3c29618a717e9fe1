// A DataSource over the data loader, so Data and ImageData layers of a net read real batches.
import * as tf from '@tensorflow/tfjs-core';

import type { DataLoader, LoaderPosition } from '../data/loader.js';
import type { DataSource } from '../net/data-source.js';

/** Feeds one data layer: the images as its first top, the labels (shaped as the second top) if it has one. */
export class LoaderDataSource implements DataSource {
  /** Batches handed out as tensors, until the backend has let go of their data. */
  private readonly lent: { tensor: tf.Tensor; data: Float32Array }[] = [];

  constructor(
    readonly loader: DataLoader,
    private readonly topShapes: number[][],
  ) {}

  /** Milliseconds next() spent waiting for the loader since the last takeWaitSeconds(). */
  private waitedMs = 0;

  async next(): Promise<tf.Tensor[]> {
    this.recycleReleased();
    // Zero when the loader had the batch prepared ahead; otherwise the backend sat idle this long.
    const start = performance.now();
    const batch = await this.loader.next();
    this.waitedMs += performance.now() - start;
    const images = tf.tensor(batch.data, batch.shape, 'float32');
    this.lent.push({ tensor: images, data: batch.data });
    if (this.lent.length > 16) this.lent.shift(); // kept by someone: left to the garbage collector
    const tops = [images];
    const labelShape = this.topShapes[1];
    if (labelShape) tops.push(tf.tensor(batch.labels, labelShape, 'float32'));
    return tops;
  }

  /**
   * Gives the loader back the buffers of batches whose tensors (and every clone of them) are
   * disposed. Some backends keep the very array a tensor was made from (cpu) or read it later
   * (tensorflow), so a buffer is reused only once the backend holds no reference to its data.
   */
  private recycleReleased(): void {
    for (let i = this.lent.length - 1; i >= 0; i--) {
      const { tensor, data } = this.lent[i]!;
      if (tensor.isDisposed && tf.engine().backend.refCount(tensor.dataId) === 0) {
        this.lent.splice(i, 1);
        this.loader.recycle(data);
      }
    }
  }

  /** Seconds spent waiting for batches since the last call. */
  takeWaitSeconds(): number {
    const seconds = this.waitedMs / 1000;
    this.waitedMs = 0;
    return seconds;
  }

  position(): LoaderPosition {
    return this.loader.position();
  }

  close(): Promise<void> {
    return this.loader.close();
  }
}
