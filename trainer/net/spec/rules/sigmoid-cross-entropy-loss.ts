// SigmoidCrossEntropyLoss: bottoms (scores, targets) of the same count; top 0 is the scalar loss.
import { fail } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const sigmoidCrossEntropyLossRule: ShapeRule = {
  type: 'SigmoidCrossEntropyLoss',
  bottoms: { min: 2, max: 2 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const [scores, targets] = context.bottomShapes as [number[], number[]];
    const count = (shape: number[]) => shape.reduce((n, d) => n * d, 1);
    if (count(scores) !== count(targets)) {
      fail(context, `expected as many targets as scores (${count(scores)}), received ${count(targets)}`);
    }
    return { topShapes: [[]], paramShapes: [] };
  },
};

registerShapeRule(sigmoidCrossEntropyLossRule);
