// Reduction: SUM, ASUM, SUMSQ or MEAN over the axes from reduction_param.axis (default 0) to the end, times
// coeff; the top keeps the axes before `axis` (a scalar for axis 0).
import { canonicalAxis } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const reductionRule: ShapeRule = {
  type: 'Reduction',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const bottom = context.bottomShapes[0]!;
    const axis = canonicalAxis(
      context,
      'reduction_param.axis',
      context.layer.reductionParam?.axis ?? 0,
      bottom.length,
    );
    return { topShapes: [bottom.slice(0, axis)], paramShapes: [] };
  },
};

registerShapeRule(reductionRule);
