// Convolution: out = (in + 2·pad − (dilation·(kernel − 1) + 1)) / stride + 1 (floor) per spatial axis;
// weights (num_output, channels/group, kernel_h, kernel_w), bias (num_output).
import {
  canonicalAxis,
  expectAxes,
  fail,
  formatShape,
  nonNegativeInteger,
  positiveInteger,
} from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { Shape, ShapeRule } from '../types.js';
import { spatialPair } from './spatial.js';

const P = 'convolution_param';

export const convolutionRule: ShapeRule = {
  type: 'Convolution',
  bottoms: { min: 1, max: Number.POSITIVE_INFINITY },
  tops: { min: 1, max: Number.POSITIVE_INFINITY },
  setUp(context) {
    const param = context.layer.convolutionParam ?? {};
    const bottom = context.bottomShapes[0]!;
    if (context.topCount !== context.bottomShapes.length) {
      fail(
        context,
        `expected as many tops as bottoms (${context.bottomShapes.length}), received ${context.topCount}`,
      );
    }
    for (const [i, other] of context.bottomShapes.entries()) {
      if (formatShape(other) !== formatShape(bottom)) {
        fail(
          context,
          `bottom ${i}: expected the shape of bottom 0 (${formatShape(bottom)}), received ${formatShape(other)}`,
        );
      }
    }
    expectAxes(context, bottom, 4);
    const axis = canonicalAxis(context, `${P}.axis`, param.axis ?? 1, bottom.length);
    if (axis !== 1) fail(context, `${P}.axis: only axis 1 (N, C, H, W) is supported, received ${param.axis}`);

    const numOutput = positiveInteger(context, `${P}.num_output`, param.numOutput);
    const group = positiveInteger(context, `${P}.group`, param.group ?? 1);
    const channels = bottom[1]!;
    if (channels % group !== 0)
      fail(context, `${P}.group: ${group} does not divide the ${channels} input channels`);
    if (numOutput % group !== 0)
      fail(context, `${P}.group: ${group} does not divide num_output ${numOutput}`);
    const kernel = spatialPair(
      context,
      P,
      'kernel',
      param.kernelSize,
      param.kernelH,
      param.kernelW,
      undefined,
    );
    for (const k of kernel) positiveInteger(context, `${P}.kernel_size`, k);
    const pad = spatialPair(context, P, 'pad', param.pad, param.padH, param.padW, 0);
    for (const p of pad) nonNegativeInteger(context, `${P}.pad`, p);
    const stride = spatialPair(context, P, 'stride', param.stride, param.strideH, param.strideW, 1);
    for (const s of stride) positiveInteger(context, `${P}.stride`, s);
    const dilation = spatialPair(context, P, 'dilation', param.dilation, undefined, undefined, 1);
    for (const d of dilation) positiveInteger(context, `${P}.dilation`, d);

    const spatial = [0, 1].map((i) => {
      const extent = dilation[i]! * (kernel[i]! - 1) + 1;
      const out = Math.floor((bottom[2 + i]! + 2 * pad[i]! - extent) / stride[i]!) + 1;
      if (out < 1) {
        fail(
          context,
          `${P}: the ${extent}-pixel kernel does not fit the ${bottom[2 + i]}-pixel input with pad ${pad[i]}`,
        );
      }
      return out;
    });
    const top: Shape = [bottom[0]!, numOutput, ...spatial];
    const paramShapes: Shape[] = [[numOutput, channels / group, kernel[0], kernel[1]]];
    if (param.biasTerm !== false) paramShapes.push([numOutput]);
    return { topShapes: context.bottomShapes.map(() => top), paramShapes };
  },
};

registerShapeRule(convolutionRule);
