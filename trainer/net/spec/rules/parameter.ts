// Parameter: no bottoms; its one top is its one learned blob, of parameter_param.shape.
import { fail } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const parameterRule: ShapeRule = {
  type: 'Parameter',
  bottoms: { min: 0, max: 0 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const shape = context.layer.parameterParam?.shape?.dim ?? [];
    shape.forEach((d, i) => {
      if (!Number.isInteger(d) || d < 0)
        fail(context, `parameter_param.shape.dim[${i}]: expected an integer ≥ 0, received ${d}`);
    });
    return { topShapes: [[...shape]], paramShapes: [[...shape]] };
  },
};

registerShapeRule(parameterRule);
