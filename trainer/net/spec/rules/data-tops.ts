// Shapes of a data layer's tops: (batch, channels, height, width) after the optional centre/random crop,
// and (batch) for the label.
import { fail, nonNegativeInteger } from '../checks.js';
import type { SetUpContext, Shape } from '../types.js';

export function dataTopShapes(
  context: SetUpContext,
  batch: number,
  channels: number,
  height: number,
  width: number,
): Shape[] {
  const crop = nonNegativeInteger(
    context,
    'transform_param.crop_size',
    context.layer.transformParam?.cropSize ?? 0,
  );
  if (crop > height || crop > width) {
    fail(
      context,
      `transform_param.crop_size: expected at most the image size ${height}x${width}, received ${crop}`,
    );
  }
  const image = crop > 0 ? [batch, channels, crop, crop] : [batch, channels, height, width];
  return context.topCount > 1 ? [image, [batch]] : [image];
}
