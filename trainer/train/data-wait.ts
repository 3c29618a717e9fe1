// The share of training time spent waiting for data, over one display interval: what `caffe train`
// logs at each display and, per iteration, exports as caffe_data_wait_seconds. The loader prepares
// batches ahead while the backend computes; a share well above zero means it does not keep up.

/** Sums an interval's waits and iteration times; line() reports them and starts the next interval. */
export class DataWaitWindow {
  private waitSeconds = 0;
  private iterationSeconds = 0;
  private iterations = 0;

  add(waitSeconds: number, iterationSeconds: number): void {
    this.waitSeconds += waitSeconds;
    this.iterationSeconds += iterationSeconds;
    this.iterations += 1;
  }

  /** The interval's line, then an empty window; undefined when no iteration was added. */
  line(): string | undefined {
    if (this.iterations === 0) return undefined;
    const text = dataWaitLine(this.waitSeconds, this.iterationSeconds, this.iterations);
    this.waitSeconds = 0;
    this.iterationSeconds = 0;
    this.iterations = 0;
    return text;
  }
}

/**
 * `Waiting for data: 0.4% of 20 iterations (0.012 s of 3.104 s)`: it starts with the message Caffe's
 * BlockingQueue::pop logs when a data layer finds no prefetched batch (src/caffe/util/blocking_queue.cpp),
 * and says how much of the interval went to it.
 */
export function dataWaitLine(waitSeconds: number, iterationSeconds: number, iterations: number): string {
  const share = iterationSeconds > 0 ? Math.min(1, waitSeconds / iterationSeconds) : 0;
  const plural = iterations === 1 ? 'iteration' : 'iterations';
  return (
    `Waiting for data: ${(share * 100).toFixed(1)}% of ${iterations} ${plural} ` +
    `(${waitSeconds.toFixed(3)} s of ${iterationSeconds.toFixed(3)} s)`
  );
}
