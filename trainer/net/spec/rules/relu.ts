// ReLU: y = max(x, 0) + negative_slope · min(x, 0); any finite slope is allowed.
import { fail } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import { sameShapeRule } from './same-shape.js';

export const reluRule = sameShapeRule('ReLU', (context) => {
  const slope = context.layer.reluParam?.negativeSlope ?? 0;
  if (!Number.isFinite(slope))
    fail(context, `relu_param.negative_slope: expected a finite number, received ${slope}`);
});

registerShapeRule(reluRule);
