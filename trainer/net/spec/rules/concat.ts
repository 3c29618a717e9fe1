// Concat: joins bottoms along `axis` (or the legacy concat_dim); all other axes must agree.
import { canonicalAxis, fail, formatShape } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const concatRule: ShapeRule = {
  type: 'Concat',
  bottoms: { min: 1, max: Number.POSITIVE_INFINITY },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const param = context.layer.concatParam ?? {};
    if (param.axis !== undefined && param.concatDim !== undefined) {
      fail(context, 'concat_param: give either axis or concat_dim, not both');
    }
    const first = context.bottomShapes[0]!;
    const axis = canonicalAxis(
      context,
      'concat_param.axis',
      param.concatDim ?? param.axis ?? 1,
      first.length,
    );
    const top = [...first];
    context.bottomShapes.slice(1).forEach((shape, i) => {
      const same = shape.length === first.length && shape.every((d, a) => a === axis || d === first[a]);
      if (!same) {
        fail(
          context,
          `bottom ${i + 1}: expected the shape of bottom 0 (${formatShape(first)}) except on axis ${axis}, received ${formatShape(shape)}`,
        );
      }
      top[axis]! += shape[axis]!;
    });
    return { topShapes: [top], paramShapes: [] };
  },
};

registerShapeRule(concatRule);
