// Tile: the bottom repeated tile_param.tiles times along tile_param.axis (default 1).
import { canonicalAxis, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const tileRule: ShapeRule = {
  type: 'Tile',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const param = context.layer.tileParam ?? {};
    const bottom = context.bottomShapes[0]!;
    const axis = canonicalAxis(context, 'tile_param.axis', param.axis ?? 1, bottom.length);
    const tiles = positiveInteger(context, 'tile_param.tiles', param.tiles);
    const top = [...bottom];
    top[axis] = bottom[axis]! * tiles;
    return { topShapes: [top], paramShapes: [] };
  },
};

registerShapeRule(tileRule);
