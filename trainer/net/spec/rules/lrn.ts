// LRN: output shape = input shape; local_size must be odd (both ACROSS_CHANNELS and WITHIN_CHANNEL).
import { expectAxes, fail, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const lrnRule: ShapeRule = {
  type: 'LRN',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const param = context.layer.lrnParam ?? {};
    const bottom = context.bottomShapes[0]!;
    expectAxes(context, bottom, 4);
    const size = positiveInteger(context, 'lrn_param.local_size', param.localSize ?? 5);
    if (size % 2 === 0) fail(context, `lrn_param.local_size: expected an odd number, received ${size}`);
    const region = param.normRegion ?? 0;
    if (region !== 0 && region !== 1) fail(context, `lrn_param.norm_region: unknown region ${region}`);
    return { topShapes: [bottom], paramShapes: [] };
  },
};

registerShapeRule(lrnRule);
