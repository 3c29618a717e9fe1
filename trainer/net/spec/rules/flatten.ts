// Flatten: axes axis..end_axis become one.
import { canonicalAxis, fail } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import { count, type ShapeRule } from '../types.js';

export const flattenRule: ShapeRule = {
  type: 'Flatten',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const param = context.layer.flattenParam ?? {};
    const bottom = context.bottomShapes[0]!;
    const start = canonicalAxis(context, 'flatten_param.axis', param.axis ?? 1, bottom.length);
    const end = canonicalAxis(context, 'flatten_param.end_axis', param.endAxis ?? -1, bottom.length);
    if (end < start)
      fail(context, `flatten_param.end_axis: expected an axis at or after axis ${start}, received ${end}`);
    const top = [...bottom.slice(0, start), count(bottom.slice(start, end + 1)), ...bottom.slice(end + 1)];
    return { topShapes: [top], paramShapes: [] };
  },
};

registerShapeRule(flattenRule);
