// Numbers the operator writes into a CaffeTrainingJob's status, rounded to what a person reads in
// `kubectl get ctj`. The trainer computes in float32 and its JSON record carries the float32 widened to a
// double, so an accuracy of 0.1 arrives as 0.10000000149011612.

/** Significant digits kept of a loss: enough to see it move, as Caffe's own log lines print about 6. */
export const LOSS_DIGITS = 6;
/** Significant digits kept of a throughput in images per second. */
export const RATE_DIGITS = 4;

/**
 * The shortest decimal that is the same float32 as `x`: 0.10000000149011612 (float32 0.1 widened) gives
 * 0.1. The float32 counterpart of what Number.prototype.toString does for doubles; at most 9 digits.
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const single = Math.fround(x);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return single;
}

/** `x` to `digits` significant digits: a loss of 0.6931471805599453 to 6 gives 0.693147. */
export function significant(x: number, digits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}
