// Silence: consumes its bottoms so they are not net outputs; no tops.
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const silenceRule: ShapeRule = {
  type: 'Silence',
  bottoms: { min: 1, max: Number.POSITIVE_INFINITY },
  tops: { min: 0, max: 0 },
  setUp() {
    return { topShapes: [], paramShapes: [] };
  },
};

registerShapeRule(silenceRule);
