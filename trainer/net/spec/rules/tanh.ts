// TanH: element-wise, no parameters.
import { registerShapeRule } from '../registry.js';
import { sameShapeRule } from './same-shape.js';

export const tanhRule = sameShapeRule('TanH');

registerShapeRule(tanhRule);
