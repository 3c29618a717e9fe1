// MVN: top has the bottom's shape; no parameters.
import { registerShapeRule } from '../registry.js';
import { sameShapeRule } from './same-shape.js';

registerShapeRule(sameShapeRule('MVN'));
