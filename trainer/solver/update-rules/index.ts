// Registers every solver type; import this module once before looking a rule up.
import './sgd.js';
import './nesterov.js';
import './adagrad.js';
import './rmsprop.js';
import './adadelta.js';
import './adam.js';

export { applyUpdate, type UpdateInput, type UpdateOutput, type UpdateRule, updateRule } from './registry.js';
