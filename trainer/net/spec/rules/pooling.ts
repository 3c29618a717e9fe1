// Pooling: Caffe rounds the output size up, out = ceil((in + 2·pad − kernel) / stride) + 1, then, when
// there is padding, drops a last window that would start inside the right/bottom padding.
import { expectAxes, fail, nonNegativeInteger, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import type { ShapeRule } from '../types.js';
import { spatialPair } from './spatial.js';

const P = 'pooling_param';
const MAX = 0;
const AVE = 1;
const FLOOR = 1;

export const poolingRule: ShapeRule = {
  type: 'Pooling',
  bottoms: { min: 1, max: 1 },
  tops: { min: 1, max: 2 },
  setUp(context) {
    const param = context.layer.poolingParam ?? {};
    const bottom = context.bottomShapes[0]!;
    expectAxes(context, bottom, 4);
    const pool = param.pool ?? MAX;
    if (context.topCount === 2 && pool !== MAX) fail(context, 'only MAX pooling gives a second (mask) top');
    let kernel: [number, number];
    if (param.globalPooling) {
      if (param.kernelSize !== undefined || param.kernelH !== undefined || param.kernelW !== undefined) {
        fail(context, `${P}.global_pooling: kernel_size cannot be given with global pooling`);
      }
      kernel = [bottom[2]!, bottom[3]!];
    } else {
      kernel = spatialPair(
        context,
        P,
        'kernel',
        listOf(param.kernelSize),
        param.kernelH,
        param.kernelW,
        undefined,
      );
      for (const k of kernel) positiveInteger(context, `${P}.kernel_size`, k);
    }
    const pad = spatialPair(context, P, 'pad', listOf(param.pad), param.padH, param.padW, 0);
    for (const p of pad) nonNegativeInteger(context, `${P}.pad`, p);
    const stride = spatialPair(context, P, 'stride', listOf(param.stride), param.strideH, param.strideW, 1);
    for (const s of stride) positiveInteger(context, `${P}.stride`, s);
    if (param.globalPooling && (pad.some((p) => p !== 0) || stride.some((s) => s !== 1))) {
      fail(
        context,
        `${P}.global_pooling: expected pad 0 and stride 1, received pad ${pad.join('x')}, stride ${stride.join('x')}`,
      );
    }
    if (pad.some((p) => p > 0) && pool !== MAX && pool !== AVE) {
      fail(context, `${P}.pad: padding is only implemented for MAX and AVE pooling`);
    }
    pad.forEach((p, i) => {
      if (p >= kernel[i]!)
        fail(context, `${P}.pad: expected less than the kernel (${kernel[i]}), received ${p}`);
    });
    const spatial = [0, 1].map((i) =>
      pooledSize(bottom[2 + i]!, kernel[i]!, stride[i]!, pad[i]!, param.roundMode === FLOOR),
    );
    spatial.forEach((s, i) => {
      if (s < 1) fail(context, `${P}: the kernel ${kernel[i]} does not fit the ${bottom[2 + i]}-pixel input`);
    });
    const top = [bottom[0]!, bottom[1]!, ...spatial];
    return { topShapes: context.topCount === 2 ? [top, top] : [top], paramShapes: [] };
  },
};

/** Output size along one axis with Caffe's rounding and padding clip. */
export function pooledSize(
  input: number,
  kernel: number,
  stride: number,
  pad: number,
  floor = false,
): number {
  const steps = (input + 2 * pad - kernel) / stride;
  let out = (floor ? Math.floor(steps) : Math.ceil(steps)) + 1;
  // Caffe compat: the last window must start inside the image or its left padding.
  if (pad > 0 && (out - 1) * stride >= input + pad) out--;
  return out;
}

function listOf(value: number | undefined): number[] | undefined {
  return value === undefined ? undefined : [value];
}

registerShapeRule(poolingRule);
