// ArgMax: the top_k largest values' indices (and, with out_max_val, the values) along argmax_param.axis, or
// over each item's values (axes 1..) when no axis is given: then the top is N × (1 or 2) × top_k (× 1 ...).
import { canonicalAxis, fail } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import { count, type ShapeRule } from '../types.js';

export const argMaxRule: ShapeRule = {
  type: 'ArgMax',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const param = context.layer.argmaxParam ?? {};
    const bottom = context.bottomShapes[0]!;
    const topK = param.topK ?? 1;
    if (!Number.isInteger(topK) || topK < 1)
      fail(context, `argmax_param.top_k: expected an integer ≥ 1, received ${topK}`);
    if (param.axis !== undefined) {
      const axis = canonicalAxis(context, 'argmax_param.axis', param.axis, bottom.length);
      if (topK > bottom[axis]!) {
        fail(
          context,
          `argmax_param.top_k: expected at most the axis' size ${bottom[axis]}, received ${topK}`,
        );
      }
      const top = [...bottom];
      top[axis] = topK;
      return { topShapes: [top], paramShapes: [] };
    }
    if (topK > count(bottom.slice(1))) {
      fail(
        context,
        `argmax_param.top_k: expected at most ${count(bottom.slice(1))} (values per item), received ${topK}`,
      );
    }
    const top = Array<number>(Math.max(3, bottom.length)).fill(1);
    top[0] = bottom[0]!;
    top[1] = param.outMaxVal ? 2 : 1;
    top[2] = topK;
    return { topShapes: [top], paramShapes: [] };
  },
};

registerShapeRule(argMaxRule);
