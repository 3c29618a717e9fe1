// Numbers for the operator benchmark: min/median/max of samples, the reconcile counter and duration
// histogram of one controller between two moments (read from the operator's own prom-client metrics),
// quantiles from histogram buckets as Prometheus's histogram_quantile computes them, and the process's
// peak memory while a phase runs.
import type { OperatorMetrics } from '../../operator/runtime/metrics.js';

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(samples: number[]): Spread {
  if (samples.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

/** One controller's reconciles so far: counts by result, and the duration histogram's buckets. */
export interface ReconcileReading {
  byResult: Record<string, number>;
  /** Cumulative counts by upper bound in seconds (Infinity for +Inf), ascending. */
  buckets: { le: number; count: number }[];
  sumSeconds: number;
}

export async function readReconciles(
  metrics: OperatorMetrics,
  controller: string,
): Promise<ReconcileReading> {
  const reading: ReconcileReading = { byResult: {}, buckets: [], sumSeconds: 0 };
  for (const value of (await metrics.reconciles.get()).values) {
    if (value.labels.controller !== controller) continue;
    const result = String(value.labels.result);
    reading.byResult[result] = (reading.byResult[result] ?? 0) + value.value;
  }
  for (const value of (await metrics.reconcileDuration.get()).values) {
    if (value.labels.controller !== controller) continue;
    if (value.metricName?.endsWith('_bucket')) {
      // prom-client's types omit the `le` label it adds to bucket values.
      const bound = (value.labels as { le?: string | number }).le;
      const le = bound === '+Inf' ? Number.POSITIVE_INFINITY : Number(bound);
      reading.buckets.push({ le, count: value.value });
    } else if (value.metricName?.endsWith('_sum')) {
      reading.sumSeconds = value.value;
    }
  }
  reading.buckets.sort((a, b) => a.le - b.le);
  return reading;
}

/** What happened between two readings. */
export function readingDelta(before: ReconcileReading, after: ReconcileReading): ReconcileReading {
  const byResult: Record<string, number> = {};
  for (const [result, count] of Object.entries(after.byResult)) {
    byResult[result] = count - (before.byResult[result] ?? 0);
  }
  const buckets = after.buckets.map(({ le, count }) => ({
    le,
    count: count - (before.buckets.find((b) => b.le === le)?.count ?? 0),
  }));
  return { byResult, buckets, sumSeconds: after.sumSeconds - before.sumSeconds };
}

export function totalReconciles(reading: ReconcileReading): number {
  return Object.values(reading.byResult).reduce((a, b) => a + b, 0);
}

/**
 * The q-quantile (0..1) of cumulative buckets, interpolated linearly inside the bucket it falls in,
 * as Prometheus does; in the +Inf bucket, the highest finite bound. NaN when there are no samples.
 */
export function histogramQuantile(q: number, buckets: { le: number; count: number }[]): number {
  const total = buckets[buckets.length - 1]?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lowerBound;
      if (count === lowerCount) return le;
      return lowerBound + ((le - lowerBound) * (rank - lowerCount)) / (count - lowerCount);
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}

/** Samples this process's RSS and heap every `everyMs` until stopped; returns the peaks in MiB. */
export function samplePeakMemory(everyMs = 100): () => { rssMiB: number; heapUsedMiB: number } {
  let rss = 0;
  let heap = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    rss = Math.max(rss, usage.rss);
    heap = Math.max(heap, usage.heapUsed);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return () => {
    clearInterval(timer);
    sample();
    return { rssMiB: rss / 2 ** 20, heapUsedMiB: heap / 2 ** 20 };
  };
}
