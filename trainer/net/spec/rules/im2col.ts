// Im2col: every kernel window of a convolution (convolution_param's kernel, pad, stride, dilation) laid out
// as a column: top N × (C·kernel_h·kernel_w) × out_h × out_w, channel c·kh·kw + i·kw + j holding tap (i, j)
// of input channel c.
import { expectAxes, fail, nonNegativeInteger, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { SetUpContext, ShapeRule } from '../types.js';
import { spatialPair } from './spatial.js';

const P = 'convolution_param';

export interface WindowGeometry {
  kernel: [number, number];
  pad: [number, number];
  stride: [number, number];
  dilation: [number, number];
  output: [number, number];
}

export function im2colGeometry(context: SetUpContext): WindowGeometry {
  const param = context.layer.convolutionParam ?? {};
  const bottom = context.bottomShapes[0]!;
  expectAxes(context, bottom, 4);
  if ((param.axis ?? 1) !== 1)
    fail(context, `${P}.axis: only axis 1 (N, C, H, W) is supported, received ${param.axis}`);
  const kernel = spatialPair(context, P, 'kernel', param.kernelSize, param.kernelH, param.kernelW, undefined);
  for (const k of kernel) positiveInteger(context, `${P}.kernel_size`, k);
  const pad = spatialPair(context, P, 'pad', param.pad, param.padH, param.padW, 0);
  for (const p of pad) nonNegativeInteger(context, `${P}.pad`, p);
  const stride = spatialPair(context, P, 'stride', param.stride, param.strideH, param.strideW, 1);
  for (const s of stride) positiveInteger(context, `${P}.stride`, s);
  const dilation = spatialPair(context, P, 'dilation', param.dilation, undefined, undefined, 1);
  for (const d of dilation) positiveInteger(context, `${P}.dilation`, d);
  const output = [0, 1].map((i) => {
    const extent = dilation[i]! * (kernel[i]! - 1) + 1;
    const out = Math.floor((bottom[2 + i]! + 2 * pad[i]! - extent) / stride[i]!) + 1;
    if (out < 1)
      fail(
        context,
        `${P}: the ${extent}-pixel kernel does not fit the ${bottom[2 + i]}-pixel input with pad ${pad[i]}`,
      );
    return out;
  }) as [number, number];
  return { kernel, pad, stride, dilation, output };
}

export const im2colRule: ShapeRule = {
  type: 'Im2col',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const { kernel, output } = im2colGeometry(context);
    const [n, c] = context.bottomShapes[0]! as [number, number];
    return { topShapes: [[n, c * kernel[0] * kernel[1], ...output]], paramShapes: [] };
  },
};

registerShapeRule(im2colRule);
