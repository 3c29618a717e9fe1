// InnerProduct: flattens from `axis` (K = product of the axes from it on); weights (num_output, K), or
// (K, num_output) with transpose; bias (num_output); top = bottom's axes before `axis` + (num_output).
import { canonicalAxis, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import { count, type Shape, type ShapeRule } from '../types.js';

export const innerProductRule: ShapeRule = {
  type: 'InnerProduct',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const param = context.layer.innerProductParam ?? {};
    const bottom = context.bottomShapes[0]!;
    const numOutput = positiveInteger(context, 'inner_product_param.num_output', param.numOutput);
    const axis = canonicalAxis(context, 'inner_product_param.axis', param.axis ?? 1, bottom.length);
    const k = count(bottom.slice(axis));
    const paramShapes: Shape[] = [param.transpose ? [k, numOutput] : [numOutput, k]];
    if (param.biasTerm !== false) paramShapes.push([numOutput]);
    return { topShapes: [[...bottom.slice(0, axis), numOutput]], paramShapes };
  },
};

registerShapeRule(innerProductRule);
