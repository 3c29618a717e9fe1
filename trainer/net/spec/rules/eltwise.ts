// Eltwise: PROD, SUM (with optional per-bottom coefficients) or MAX of equally shaped bottoms.
import { fail, formatShape } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

const SUM = 1;

export const eltwiseRule: ShapeRule = {
  type: 'Eltwise',
  bottoms: { min: 2, max: Number.POSITIVE_INFINITY },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const param = context.layer.eltwiseParam ?? {};
    const coeffs = param.coeff ?? [];
    if (coeffs.length > 0 && (param.operation ?? SUM) !== SUM) {
      fail(context, 'eltwise_param.coeff: coefficients are only for the SUM operation');
    }
    if (coeffs.length > 0 && coeffs.length !== context.bottomShapes.length) {
      fail(
        context,
        `eltwise_param.coeff: expected one per bottom (${context.bottomShapes.length}), received ${coeffs.length}`,
      );
    }
    const first = context.bottomShapes[0]!;
    context.bottomShapes.forEach((shape, i) => {
      if (formatShape(shape) !== formatShape(first)) {
        fail(
          context,
          `bottom ${i}: expected the shape of bottom 0 (${formatShape(first)}), received ${formatShape(shape)}`,
        );
      }
    });
    return { topShapes: [first], paramShapes: [] };
  },
};

registerShapeRule(eltwiseRule);
