// A rule for element-wise layers: each top has its bottom's shape and there are no parameters.
import type { SetUpContext, ShapeRule } from '../types.js';

export function sameShapeRule(type: string, validate: (context: SetUpContext) => void = () => {}): ShapeRule {
  return {
    type,
    bottoms: { min: 1, max: 1 },
    tops: { min: 1, max: 1 },
    setUp(context) {
      validate(context);
      return { topShapes: [context.bottomShapes[0]!], paramShapes: [] };
    },
  };
}
