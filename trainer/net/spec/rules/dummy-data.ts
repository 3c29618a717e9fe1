// DummyData: tops filled by fillers, shaped by `shape` or the legacy num/channels/height/width lists
// (each given once for all tops or once per top).
import { fail, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { SetUpContext, ShapeRule } from '../types.js';

export const dummyDataRule: ShapeRule = {
  type: 'DummyData',
  bottoms: { min: 0, max: 0 },
  tops: { min: 1, max: Number.POSITIVE_INFINITY },
  setUp(context) {
    const param = context.layer.dummyDataParam ?? {};
    const n = context.topCount;
    const shapes = param.shape ?? [];
    const legacy = [param.num ?? [], param.channels ?? [], param.height ?? [], param.width ?? []];
    const usesLegacy = legacy.some((l) => l.length > 0);
    if (usesLegacy && shapes.length > 0)
      fail(context, 'dummy_data_param: give either shape or num/channels/height/width, not both');
    const pick = <T>(list: T[], field: string, i: number): T => {
      if (list.length !== 1 && list.length !== n)
        fail(context, `dummy_data_param.${field}: expected 1 or ${n} values, received ${list.length}`);
      return (list.length === 1 ? list[0] : list[i])!;
    };
    const topShapes = Array.from({ length: n }, (_, i) => {
      const dims = usesLegacy
        ? ['num', 'channels', 'height', 'width'].map((f, k) => pick(legacy[k]!, f, i))
        : (pick(shapes, 'shape', i).dim ?? []);
      return dims.map((d, axis) => checkDim(context, d, axis));
    });
    return { topShapes, paramShapes: [] };
  },
};

function checkDim(context: SetUpContext, value: number, axis: number): number {
  return positiveInteger(context, `dummy_data_param dim ${axis}`, value);
}

registerShapeRule(dummyDataRule);
