// SoftmaxWithLoss: bottoms (scores, labels); top 0 is the scalar loss, an optional top 1 the probabilities.
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';
import { checkLabels } from './labels.js';

export const softmaxWithLossRule: ShapeRule = {
  type: 'SoftmaxWithLoss',
  bottoms: { min: 2, max: 2 },
  tops: { min: 1, max: 2 },
  setUp(context) {
    checkLabels(context, 'softmax_param.axis', context.layer.softmaxParam?.axis ?? 1);
    const topShapes = context.topCount === 2 ? [[], context.bottomShapes[0]!] : [[]];
    return { topShapes, paramShapes: [] };
  },
};

registerShapeRule(softmaxWithLossRule);
