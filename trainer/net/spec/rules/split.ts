// Split: copies one bottom to any number of tops (inserted by insertSplits, or written by hand).
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const splitRule: ShapeRule = {
  type: 'Split',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: Number.POSITIVE_INFINITY },
  setUp(context) {
    return {
      topShapes: Array.from({ length: context.topCount }, () => context.bottomShapes[0]!),
      paramShapes: [],
    };
  },
};

registerShapeRule(splitRule);
