// SPP (spatial pyramid pooling): for level l < spp_param.pyramid_height, a Pooling of 2^l × 2^l bins over
// the whole image (kernel ceil(size / bins), stride = kernel, pad (kernel·bins − size + 1) / 2), each
// flattened to N × (C·bins²) and all concatenated; with one level, the Pooling's own N × C × 1 × 1 top.
import type { LayerParameter } from '../../../proto/messages.js';
import { expectAxes, fail, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { SetUpContext, Shape, ShapeRule } from '../types.js';
import { poolingRule } from './pooling.js';

/** The Pooling layer parameter of pyramid level `level` for an H × W bottom, as Caffe's SPPLayer makes it. */
export function sppLevelParameter(
  layer: LayerParameter,
  level: number,
  height: number,
  width: number,
): LayerParameter {
  const bins = 2 ** level;
  const kernelH = Math.ceil(height / bins);
  const kernelW = Math.ceil(width / bins);
  return {
    name: `${layer.name ?? ''} level ${level}`,
    type: 'Pooling',
    poolingParam: {
      pool: layer.sppParam?.pool ?? 0,
      kernelH,
      kernelW,
      strideH: kernelH,
      strideW: kernelW,
      padH: Math.floor((kernelH * bins - height + 1) / 2),
      padW: Math.floor((kernelW * bins - width + 1) / 2),
    },
  };
}

/** Each level's Pooling top shape, checked by the Pooling rule (which names the level in its errors). */
export function sppLevelShapes(context: SetUpContext): Shape[] {
  const bottom = context.bottomShapes[0]!;
  expectAxes(context, bottom, 4);
  const height = positiveInteger(context, 'spp_param.pyramid_height', context.layer.sppParam?.pyramidHeight);
  return Array.from({ length: height }, (_, level) => {
    const layer = sppLevelParameter(context.layer, level, bottom[2]!, bottom[3]!);
    const pad = layer.poolingParam!;
    if (pad.padH! >= pad.kernelH! || pad.padW! >= pad.kernelW!) {
      fail(
        context,
        `spp_param.pyramid_height: level ${level} needs a pad of ${pad.padH}x${pad.padW} for a ` +
          `${pad.kernelH}x${pad.kernelW} kernel on ${bottom[2]}x${bottom[3]}; Caffe's Pooling refuses a pad ≥ the kernel`,
      );
    }
    return poolingRule.setUp({ ...context, layer, where: `${context.where} level ${level}`, topCount: 1 })
      .topShapes[0]!;
  });
}

export const sppRule: ShapeRule = {
  type: 'SPP',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const levels = sppLevelShapes(context);
    if (levels.length === 1) return { topShapes: [levels[0]!], paramShapes: [] };
    const width = levels.reduce((n, shape) => n + shape[1]! * shape[2]! * shape[3]!, 0);
    return { topShapes: [[context.bottomShapes[0]![0]!, width]], paramShapes: [] };
  },
};

registerShapeRule(sppRule);
