// Dropout: element-wise; dropout_ratio must be in [0, 1).
import { fail } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import { sameShapeRule } from './same-shape.js';

export const dropoutRule = sameShapeRule('Dropout', (context) => {
  const ratio = context.layer.dropoutParam?.dropoutRatio ?? 0.5;
  if (!(ratio >= 0 && ratio < 1))
    fail(context, `dropout_param.dropout_ratio: expected a number in [0, 1), received ${ratio}`);
});

registerShapeRule(dropoutRule);
