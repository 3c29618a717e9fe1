// MemoryData: batches handed in by the program: (batch_size, channels, height, width) and (batch_size).
import { positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const memoryDataRule: ShapeRule = {
  type: 'MemoryData',
  bottoms: { min: 0, max: 0 },
  tops: { min: 1, max: 2 },
  setUp(context) {
    const param = context.layer.memoryDataParam ?? {};
    const batch = positiveInteger(context, 'memory_data_param.batch_size', param.batchSize);
    const dims = (['channels', 'height', 'width'] as const).map((f) =>
      positiveInteger(context, `memory_data_param.${f}`, param[f]),
    );
    const image = [batch, ...dims];
    return { topShapes: context.topCount > 1 ? [image, [batch]] : [image], paramShapes: [] };
  },
};

registerShapeRule(memoryDataRule);
