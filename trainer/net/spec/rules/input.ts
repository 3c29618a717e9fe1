// Input: tops of the shapes given in input_param (one shape for every top, or one per top).
import { fail, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const inputRule: ShapeRule = {
  type: 'Input',
  bottoms: { min: 0, max: 0 },
  tops: { min: 1, max: Number.POSITIVE_INFINITY },
  setUp(context) {
    const shapes = context.layer.inputParam?.shape ?? [];
    if (shapes.length !== 1 && shapes.length !== context.topCount) {
      fail(context, `input_param.shape: expected 1 or ${context.topCount} shapes, received ${shapes.length}`);
    }
    const topShapes = Array.from({ length: context.topCount }, (_, i) => {
      const dims = (shapes.length === 1 ? shapes[0] : shapes[i])!.dim ?? [];
      return dims.map((d, axis) => positiveInteger(context, `input_param.shape.dim[${axis}]`, d));
    });
    return { topShapes, paramShapes: [] };
  },
};

registerShapeRule(inputRule);
