// Deconvolution (Caffe's transposed convolution, convolution_param): out = stride·(in − 1) + dilation·
// (kernel − 1) + 1 − 2·pad per spatial axis; weights (channels, num_output/group, kernel_h, kernel_w), bias
// (num_output). One bottom and one top here (Caffe allows several sharing the weights).
import { expectAxes, fail, nonNegativeInteger, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { Shape, ShapeRule } from '../types.js';
import { spatialPair } from './spatial.js';

const P = 'convolution_param';

export const deconvolutionRule: ShapeRule = {
  type: 'Deconvolution',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const param = context.layer.convolutionParam ?? {};
    const bottom = context.bottomShapes[0]!;
    expectAxes(context, bottom, 4);
    if ((param.axis ?? 1) !== 1 && param.axis !== -3) {
      fail(context, `${P}.axis: only axis 1 (N, C, H, W) is supported, received ${param.axis}`);
    }
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
      const out = stride[i]! * (bottom[2 + i]! - 1) + extent - 2 * pad[i]!;
      if (out < 1) fail(context, `${P}.pad: ${pad[i]} leaves no output from a ${bottom[2 + i]}-pixel input`);
      return out;
    });
    const paramShapes: Shape[] = [[channels, numOutput / group, kernel[0], kernel[1]]];
    if (param.biasTerm !== false) paramShapes.push([numOutput]);
    return { topShapes: [[bottom[0]!, numOutput, ...spatial]], paramShapes };
  },
};

registerShapeRule(deconvolutionRule);
