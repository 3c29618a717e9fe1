// Layer type name → shape rule. Each rule file registers itself when imported (see rules/index.ts).
import { BadInputError } from '../../contract/errors.js';
import type { ShapeRule } from './types.js';

const rules = new Map<string, ShapeRule>();

export function registerShapeRule(rule: ShapeRule): void {
  if (rules.has(rule.type)) throw new Error(`shape rule for layer type ${rule.type} is registered twice`);
  rules.set(rule.type, rule);
}

export function shapeRuleFor(type: string, where: string): ShapeRule {
  const rule = rules.get(type);
  if (!rule) {
    throw new BadInputError(
      `unknown layer type "${type}"; known types: ${knownLayerTypes().join(', ')}`,
      where,
    );
  }
  return rule;
}

export function knownLayerTypes(): string[] {
  return [...rules.keys()].sort();
}
