// Bias: top = bottom 0 + a bias broadcast along bottom 0's axes axis .. axis + n - 1. The bias is bottom 1
// (its shape fixes n) or a learned blob of bottom 0's shape over bias_param.num_axes axes (-1: to the end).
import { canonicalAxis, fail, formatShape } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { SetUpContext, Shape, ShapeRule } from '../types.js';

/** The axes of bottom 0 the bias covers: [axis, axis + count). */
export function biasAxes(context: SetUpContext): { axis: number; shape: Shape } {
  const param = context.layer.biasParam ?? {};
  const bottom = context.bottomShapes[0]!;
  const second = context.bottomShapes[1];
  // Caffe compat: with a scalar bias (0 axes) the axis may be one past the last, hence the +1.
  const biasRank = second ? second.length : undefined;
  const axis =
    biasRank === 0 && (param.axis ?? 1) === bottom.length
      ? bottom.length
      : canonicalAxis(context, 'bias_param.axis', param.axis ?? 1, bottom.length);
  if (second) {
    const covered = bottom.slice(axis, axis + second.length);
    if (covered.length !== second.length || covered.some((d, i) => d !== second[i])) {
      fail(
        context,
        `bottom 1 (bias): expected shape ${formatShape(covered)} (bottom 0's axes from ${axis}), received ${formatShape(second)}`,
      );
    }
    return { axis, shape: second };
  }
  const numAxes = param.numAxes ?? 1;
  if (!Number.isInteger(numAxes) || numAxes < -1 || (numAxes >= 0 && axis + numAxes > bottom.length)) {
    fail(
      context,
      `bias_param.num_axes: expected -1 or 0 to ${bottom.length - axis} (axes from ${axis}), received ${numAxes}`,
    );
  }
  return { axis, shape: bottom.slice(axis, numAxes === -1 ? bottom.length : axis + numAxes) };
}

export const biasRule: ShapeRule = {
  type: 'Bias',
  bottoms: { min: 1, max: 2 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const { shape } = biasAxes(context);
    return {
      topShapes: [context.bottomShapes[0]!],
      paramShapes: context.bottomShapes.length === 2 ? [] : [shape],
    };
  },
};

registerShapeRule(biasRule);
