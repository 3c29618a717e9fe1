// Accuracy: bottoms (scores, labels); top 0 the scalar accuracy, an optional top 1 per-class accuracy.
// top_k must not exceed the number of classes.
import { fail, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';
import { checkLabels } from './labels.js';

export const accuracyRule: ShapeRule = {
  type: 'Accuracy',
  bottoms: { min: 2, max: 2 },
  tops: { min: 1, max: 2 },
  setUp(context) {
    const param = context.layer.accuracyParam ?? {};
    const axis = checkLabels(context, 'accuracy_param.axis', param.axis ?? 1);
    const classes = context.bottomShapes[0]![axis]!;
    const topK = positiveInteger(context, 'accuracy_param.top_k', param.topK ?? 1);
    if (topK > classes)
      fail(context, `accuracy_param.top_k: expected at most the ${classes} classes, received ${topK}`);
    const topShapes = context.topCount === 2 ? [[], [classes]] : [[]];
    return { topShapes, paramShapes: [] };
  },
};

registerShapeRule(accuracyRule);
