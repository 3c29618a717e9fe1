// Reshape: bottom axes [axis, axis + num_axes) are replaced by reshape_param.shape, where 0 copies the
// bottom's dimension at that place and one -1 is inferred from the count; the count may not change.
import { fail, formatShape } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import { count, type ShapeRule } from '../types.js';

export const reshapeRule: ShapeRule = {
  type: 'Reshape',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const param = context.layer.reshapeParam ?? {};
    const bottom = context.bottomShapes[0]!;
    const dims = param.shape?.dim ?? [];
    const axisValue = param.axis ?? 0;
    // Caffe compat: a negative axis counts from one past the end (-1 means "after the last axis").
    const start = axisValue >= 0 ? axisValue : bottom.length + axisValue + 1;
    if (!Number.isInteger(start) || start < 0 || start > bottom.length) {
      fail(
        context,
        `reshape_param.axis: expected an axis in [${-bottom.length - 1}, ${bottom.length}], received ${axisValue}`,
      );
    }
    const numAxes = param.numAxes ?? -1;
    if (!Number.isInteger(numAxes) || numAxes < -1 || (numAxes >= 0 && start + numAxes > bottom.length)) {
      fail(
        context,
        `reshape_param.num_axes: expected -1 or 0 to ${bottom.length - start}, received ${numAxes}`,
      );
    }
    const end = numAxes === -1 ? bottom.length : start + numAxes;
    let inferred = -1;
    const middle = dims.map((d, i) => {
      if (d === 0) {
        if (start + i >= bottom.length) {
          fail(
            context,
            `reshape_param.shape.dim[${i}]: 0 copies bottom axis ${start + i}, which does not exist`,
          );
        }
        return bottom[start + i]!;
      }
      if (d === -1) {
        if (inferred >= 0)
          fail(context, 'reshape_param.shape: expected at most one -1 dimension, received two');
        inferred = i;
        return 1;
      }
      if (!Number.isInteger(d) || d < 0) {
        fail(context, `reshape_param.shape.dim[${i}]: expected -1, 0 or a positive integer, received ${d}`);
      }
      return d;
    });
    const top = [...bottom.slice(0, start), ...middle, ...bottom.slice(end)];
    if (inferred >= 0) {
      const known = count(top);
      if (known === 0 || count(bottom) % known !== 0) {
        fail(
          context,
          `reshape_param.shape: cannot infer the -1 dimension of ${formatShape(top)} from ${formatShape(bottom)}`,
        );
      }
      top[start + inferred] = count(bottom) / known;
    }
    if (count(top) !== count(bottom)) {
      fail(
        context,
        `reshape_param.shape: top ${formatShape(top)} has ${count(top)} values, bottom ${formatShape(bottom)} ${count(bottom)}`,
      );
    }
    return { topShapes: [top], paramShapes: [] };
  },
};

registerShapeRule(reshapeRule);
