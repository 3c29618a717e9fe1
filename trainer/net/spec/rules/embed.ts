// Embed: each bottom value is an index in [0, input_dim); the top appends num_output to the bottom's shape.
// Weights input_dim × num_output, bias num_output (bias_term, default true).
import { positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { Shape, ShapeRule } from '../types.js';

export const embedRule: ShapeRule = {
  type: 'Embed',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const param = context.layer.embedParam ?? {};
    const numOutput = positiveInteger(context, 'embed_param.num_output', param.numOutput);
    const inputDim = positiveInteger(context, 'embed_param.input_dim', param.inputDim);
    const paramShapes: Shape[] = [[inputDim, numOutput]];
    if (param.biasTerm ?? true) paramShapes.push([numOutput]);
    return { topShapes: [[...context.bottomShapes[0]!, numOutput]], paramShapes };
  },
};

registerShapeRule(embedRule);
