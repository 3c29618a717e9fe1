// PReLU: top has the bottom's shape (at least 2 axes); one slope per channel (axis 1), or a scalar slope
// with prelu_param.channel_shared.
import { fail, formatShape } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const preluRule: ShapeRule = {
  type: 'PReLU',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const bottom = context.bottomShapes[0]!;
    if (bottom.length < 2)
      fail(context, `bottom: expected at least 2 axes, received shape ${formatShape(bottom)}`);
    const shared = context.layer.preluParam?.channelShared ?? false;
    return { topShapes: [bottom], paramShapes: [shared ? [] : [bottom[1]!]] };
  },
};

registerShapeRule(preluRule);
