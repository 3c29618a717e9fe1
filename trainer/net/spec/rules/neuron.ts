// The element-wise layers with no parameter blobs (Caffe's NeuronLayers added with issue 14): each top has
// its bottom's shape. Their parameters are checked when the layer is built (trainer/net/layers).
import { fail } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import { sameShapeRule } from './same-shape.js';

for (const type of ['AbsVal', 'BNLL', 'ELU', 'Exp', 'Log', 'Power', 'Swish', 'Threshold']) {
  registerShapeRule(sameShapeRule(type));
}

registerShapeRule(
  sameShapeRule('Clip', (context) => {
    const param = context.layer.clipParam;
    if (param?.min === undefined || param.max === undefined) {
      fail(context, 'clip_param: expected both min and max (Caffe requires them)');
    }
  }),
);
