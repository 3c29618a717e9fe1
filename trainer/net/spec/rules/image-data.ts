// ImageData: images listed in a text file, resized to new_height x new_width when both are set.
import { fail, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';
import { dataTopShapes } from './data-tops.js';

export const imageDataRule: ShapeRule = {
  type: 'ImageData',
  bottoms: { min: 0, max: 0 },
  tops: { min: 1, max: 2 },
  setUp(context) {
    const param = context.layer.imageDataParam ?? {};
    const batch = positiveInteger(context, 'image_data_param.batch_size', param.batchSize ?? 1);
    const newHeight = param.newHeight ?? 0;
    const newWidth = param.newWidth ?? 0;
    if (newHeight > 0 !== newWidth > 0) {
      fail(
        context,
        `image_data_param: new_height and new_width must be set together, received ${newHeight} and ${newWidth}`,
      );
    }
    const channels = param.isColor === false ? 1 : 3;
    const height = newHeight > 0 ? newHeight : context.dataShape.height;
    const width = newWidth > 0 ? newWidth : context.dataShape.width;
    return { topShapes: dataTopShapes(context, batch, channels, height, width), paramShapes: [] };
  },
};

registerShapeRule(imageDataRule);
