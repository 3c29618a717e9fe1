// Softmax: normalises along `axis`; top shape = bottom shape.
import { canonicalAxis } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import { sameShapeRule } from './same-shape.js';

export const softmaxRule = sameShapeRule('Softmax', (context) => {
  canonicalAxis(
    context,
    'softmax_param.axis',
    context.layer.softmaxParam?.axis ?? 1,
    context.bottomShapes[0]!.length,
  );
});

registerShapeRule(softmaxRule);
