// BatchReindex: bottoms (data, indices along axis 0, a 1-D blob); top = data items in the indices' order.
import { fail, formatShape } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const batchReindexRule: ShapeRule = {
  type: 'BatchReindex',
  bottoms: { min: 2, max: 2 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const [data, indices] = context.bottomShapes as [number[], number[]];
    if (indices.length !== 1)
      fail(context, `bottom 1 (indices): expected a 1-D blob, received ${formatShape(indices)}`);
    if (data.length < 1) fail(context, 'bottom 0: expected at least one axis, received a scalar');
    return { topShapes: [[indices[0]!, ...data.slice(1)]], paramShapes: [] };
  },
};

registerShapeRule(batchReindexRule);
