// Data: records from an LMDB. The image size is not in the prototxt: Caffe reads it from the first record,
// which the caller does (firstRecordShapes) and passes as this layer's data shape; crop_size then replaces
// height and width.
import { positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';
import { dataTopShapes } from './data-tops.js';

export const dataRule: ShapeRule = {
  type: 'Data',
  bottoms: { min: 0, max: 0 },
  tops: { min: 1, max: 2 },
  setUp(context) {
    const batch = positiveInteger(context, 'data_param.batch_size', context.layer.dataParam?.batchSize);
    const { channels, height, width } = context.dataShape;
    return { topShapes: dataTopShapes(context, batch, channels, height, width), paramShapes: [] };
  },
};

registerShapeRule(dataRule);
