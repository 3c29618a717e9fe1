// Crop: bottom 0 cut to bottom 1's shape on the axes from crop_param.axis (default 2) on, starting at
// crop_param.offset (none: 0; one: for every cropped axis; else one per cropped axis).
import { canonicalAxis, fail, formatShape } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { SetUpContext, ShapeRule } from '../types.js';

/** The start of the crop on every axis of bottom 0 (0 on the axes before crop_param.axis). */
export function cropOffsets(context: SetUpContext): number[] {
  const param = context.layer.cropParam ?? {};
  const [source, reference] = context.bottomShapes as [number[], number[]];
  if (source.length !== reference.length) {
    fail(
      context,
      `bottoms: expected the same number of axes, received ${formatShape(source)} and ${formatShape(reference)}`,
    );
  }
  const axis = canonicalAxis(context, 'crop_param.axis', param.axis ?? 2, source.length);
  const given = param.offset ?? [];
  const cropped = source.length - axis;
  if (given.length > 1 && given.length !== cropped) {
    fail(
      context,
      `crop_param.offset: expected 0, 1 or ${cropped} offsets (one per cropped axis), received ${given.length}`,
    );
  }
  return source.map((size, i) => {
    if (i < axis) return 0;
    const offset = given.length === 0 ? 0 : given.length === 1 ? given[0]! : given[i - axis]!;
    if (offset + reference[i]! > size) {
      fail(
        context,
        `crop_param.offset: axis ${i} of size ${size} cannot give ${reference[i]} values from offset ${offset}`,
      );
    }
    return offset;
  });
}

export const cropRule: ShapeRule = {
  type: 'Crop',
  bottoms: { min: 2, max: 2 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const [source, reference] = context.bottomShapes as [number[], number[]];
    const axis = canonicalAxis(context, 'crop_param.axis', context.layer.cropParam?.axis ?? 2, source.length);
    cropOffsets(context);
    return { topShapes: [source.map((size, i) => (i < axis ? size : reference[i]!))], paramShapes: [] };
  },
};

registerShapeRule(cropRule);
