// Scale: multiplies bottom 0 by a scale blob covering axes axis..axis+num_axes (num_axes −1: to the end),
// learned when there is one bottom, taken from bottom 1 otherwise; optional learned bias of the same shape.
import { canonicalAxis, fail, formatShape } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { Shape, ShapeRule } from '../types.js';

export const scaleRule: ShapeRule = {
  type: 'Scale',
  bottoms: { min: 1, max: 2 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const param = context.layer.scaleParam ?? {};
    const bottom = context.bottomShapes[0]!;
    const paramShapes: Shape[] = [];
    let scaleShape: Shape;
    if (context.bottomShapes.length === 2) {
      scaleShape = context.bottomShapes[1]!;
      const axis = canonicalAxis(context, 'scale_param.axis', param.axis ?? 1, bottom.length);
      const matches =
        scaleShape.every((d, i) => bottom[axis + i] === d) && axis + scaleShape.length <= bottom.length;
      if (!matches) {
        fail(
          context,
          `bottom 1: expected a scale shape matching ${formatShape(bottom)} from axis ${axis}, received ${formatShape(scaleShape)}`,
        );
      }
    } else {
      const numAxes = param.numAxes ?? 1;
      if (numAxes < -1) fail(context, `scale_param.num_axes: expected −1 or more, received ${numAxes}`);
      // Caffe compat: axis may equal the number of axes when num_axes is 0 (a scalar scale).
      const axis =
        numAxes === 0 && param.axis === bottom.length
          ? bottom.length
          : canonicalAxis(context, 'scale_param.axis', param.axis ?? 1, bottom.length);
      const end = numAxes === -1 ? bottom.length : axis + numAxes;
      if (end > bottom.length) {
        fail(
          context,
          `scale_param.num_axes: axis ${axis} + ${numAxes} axes exceeds the ${bottom.length}-D bottom`,
        );
      }
      scaleShape = bottom.slice(axis, end);
      paramShapes.push(scaleShape);
    }
    if (param.biasTerm) paramShapes.push(scaleShape);
    return { topShapes: [bottom], paramShapes };
  },
};

registerShapeRule(scaleRule);
