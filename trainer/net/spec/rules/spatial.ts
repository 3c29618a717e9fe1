// Per-axis (height, width) values of convolution and pooling, from either the repeated/scalar form or the
// _h/_w pair, with Caffe's rule that the two forms exclude each other.
import { fail } from '../checks.js';
import type { SetUpContext } from '../types.js';

/**
 * Reads `name` (a list of 1 or 2 values, or empty) or `name_h`/`name_w`; returns [h, w]. A kernel needs
 * both halves of the pair; for pad and stride (which have a fallback) a missing half takes the fallback.
 */
export function spatialPair(
  context: SetUpContext,
  prefix: string,
  name: string,
  list: number[] | undefined,
  h: number | undefined,
  w: number | undefined,
  fallback: number | undefined,
): [number, number] {
  const values = list ?? [];
  if (h !== undefined || w !== undefined) {
    if (values.length > 0)
      fail(context, `${prefix}.${name}: give either ${name} or ${name}_h/${name}_w, not both`);
    if (fallback !== undefined) return [h ?? fallback, w ?? fallback];
    if (h === undefined || w === undefined) {
      fail(
        context,
        `${prefix}.${name}_h/${name}_w: expected both, received only ${h === undefined ? `${name}_w` : `${name}_h`}`,
      );
    }
    return [h, w];
  }
  if (values.length === 0) {
    if (fallback === undefined) fail(context, `${prefix}.${name}: expected a value, received nothing`);
    return [fallback, fallback];
  }
  if (values.length > 2)
    fail(context, `${prefix}.${name}: expected 1 or 2 values for 2 spatial axes, received ${values.length}`);
  return [values[0]!, values[values.length - 1]!];
}
