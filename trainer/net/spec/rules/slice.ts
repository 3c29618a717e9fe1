// Slice: cuts its bottom along `axis` (or the legacy slice_dim) into its tops, at slice_point (one
// point fewer than tops, increasing) or into equal parts.
import { canonicalAxis, fail, formatShape } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const sliceRule: ShapeRule = {
  type: 'Slice',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: Number.POSITIVE_INFINITY },
  setUp(context) {
    const param = context.layer.sliceParam ?? {};
    if (param.axis !== undefined && param.sliceDim !== undefined) {
      fail(context, 'slice_param: give either axis or slice_dim, not both');
    }
    const bottom = context.bottomShapes[0]!;
    const axis = canonicalAxis(
      context,
      param.sliceDim !== undefined ? 'slice_param.slice_dim' : 'slice_param.axis',
      param.sliceDim ?? param.axis ?? 1,
      bottom.length,
    );
    const size = bottom[axis]!;
    const tops = context.topCount;
    const points = param.slicePoint ?? [];
    const sizes: number[] = [];
    if (points.length > 0) {
      if (points.length !== tops - 1) {
        fail(
          context,
          `slice_param.slice_point: expected ${tops - 1} points (one fewer than tops), received ${points.length}`,
        );
      }
      let previous = 0;
      for (const point of [...points, size]) {
        if (point <= previous) {
          fail(
            context,
            `slice_param.slice_point: expected increasing points inside axis ${axis} of ${formatShape(bottom)}, received ${points.join(', ')}`,
          );
        }
        sizes.push(point - previous);
        previous = point;
      }
    } else {
      if (size % tops !== 0) {
        fail(
          context,
          `${tops} tops do not divide axis ${axis} of ${formatShape(bottom)} (${size}) evenly: give slice_point`,
        );
      }
      for (let i = 0; i < tops; i++) sizes.push(size / tops);
    }
    const topShapes = sizes.map((s) => bottom.map((d, a) => (a === axis ? s : d)));
    return { topShapes, paramShapes: [] };
  },
};

registerShapeRule(sliceRule);
