// BatchNorm: normalises over (N, H, W) per channel; its three blobs hold the running mean (C), variance (C)
// and the moving-average scale factor (1).
import { fail, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';

export const batchNormRule: ShapeRule = {
  type: 'BatchNorm',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const param = context.layer.batchNormParam ?? {};
    const bottom = context.bottomShapes[0]!;
    if (bottom.length < 2)
      fail(context, `bottom: expected at least 2 axes (N, C, ...), received ${bottom.length}`);
    const channels = positiveInteger(context, 'bottom channels', bottom[1]);
    const fraction = param.movingAverageFraction ?? 0.999;
    if (!(fraction >= 0 && fraction <= 1)) {
      fail(
        context,
        `batch_norm_param.moving_average_fraction: expected a number in [0, 1], received ${fraction}`,
      );
    }
    const eps = param.eps ?? 1e-5;
    if (!(eps > 0)) fail(context, `batch_norm_param.eps: expected a positive number, received ${eps}`);
    return { topShapes: [bottom], paramShapes: [[channels], [channels], [1]] };
  },
};

registerShapeRule(batchNormRule);
