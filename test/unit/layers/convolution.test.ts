import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ConvolutionParameter } from '../../../trainer/proto/messages.js';
import {
  assertClose,
  buildFromEditedSpec,
  buildLayer,
  checkGradients,
  layerSpecFor,
  seeded,
  tf,
} from './support.js';

const GAUSSIAN = { type: 'gaussian', std: 1 };

function convolution(shape: number[], param: ConvolutionParameter) {
  return buildLayer(
    { x: shape },
    {
      name: 'conv',
      type: 'Convolution',
      bottom: ['x'],
      top: ['y'],
      convolutionParam: { weightFiller: GAUSSIAN, biasFiller: GAUSSIAN, ...param },
    },
    { seed: 17 },
  );
}

interface Geometry {
  group: number;
  kernel: [number, number];
  pad: [number, number];
  stride: [number, number];
  dilation: [number, number];
}

/** Caffe's convolution formula as loops: out[o,oy,ox] = b[o] + Σ W[o,c',i,j]·x[c0+c', oy·s−p+i·d, ox·s−p+j·d]. */
function referenceConv(
  x: ArrayLike<number>,
  [n, channels, height, width]: [number, number, number, number],
  weights: ArrayLike<number>,
  bias: ArrayLike<number>,
  numOutput: number,
  [outH, outW]: [number, number],
  { group, kernel, pad, stride, dilation }: Geometry,
): number[] {
  const perGroupIn = channels / group;
  const perGroupOut = numOutput / group;
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < numOutput; o++) {
      const c0 = Math.floor(o / perGroupOut) * perGroupIn;
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          let sum = bias[o]!;
          for (let c = 0; c < perGroupIn; c++) {
            for (let i = 0; i < kernel[0]; i++) {
              for (let j = 0; j < kernel[1]; j++) {
                const y = oy * stride[0] - pad[0] + i * dilation[0];
                const xx = ox * stride[1] - pad[1] + j * dilation[1];
                if (y < 0 || y >= height || xx < 0 || xx >= width) continue;
                const w = weights[((o * perGroupIn + c) * kernel[0] + i) * kernel[1] + j]!;
                sum += w * x[((b * channels + c0 + c) * height + y) * width + xx]!;
              }
            }
          }
          out.push(sum);
        }
      }
    }
  }
  return out;
}

describe('Convolution', () => {
  const cases: [string, [number, number, number, number], ConvolutionParameter, Geometry][] = [
    [
      'plain 3x3',
      [2, 3, 5, 5],
      { numOutput: 4, kernelSize: [3] },
      geometry(1, [3, 3], [0, 0], [1, 1], [1, 1]),
    ],
    [
      'groups 2 with pad and stride',
      [1, 4, 7, 6],
      { numOutput: 6, kernelSize: [3], group: 2, pad: [1], stride: [2] },
      geometry(2, [3, 3], [1, 1], [2, 2], [1, 1]),
    ],
    [
      'rectangular kernel, pad_h/pad_w, stride_h/stride_w',
      [1, 2, 6, 7],
      { numOutput: 3, kernelH: 3, kernelW: 2, padH: 2, padW: 1, strideH: 1, strideW: 3 },
      geometry(1, [3, 2], [2, 1], [1, 3], [1, 1]),
    ],
    [
      'dilation 2 with groups 3',
      [1, 3, 7, 7],
      { numOutput: 3, kernelSize: [3], group: 3, dilation: [2], pad: [1] },
      geometry(3, [3, 3], [1, 1], [1, 1], [2, 2]),
    ],
  ];

  for (const [name, input, param, g] of cases) {
    it(`matches Caffe's formula: ${name}`, () => {
      const layer = convolution(input, param);
      const [weights, bias] = layer.blobs;
      assert.deepEqual(weights!.shape, [param.numOutput, input[1]! / g.group, ...g.kernel]);
      assert.deepEqual(bias!.shape, [param.numOutput]);
      const x = seeded(input, 2);
      const y = layer.forward([x], 0)[0]!;
      const outH =
        Math.floor((input[2]! + 2 * g.pad[0] - (g.dilation[0] * (g.kernel[0] - 1) + 1)) / g.stride[0]) + 1;
      const outW =
        Math.floor((input[3]! + 2 * g.pad[1] - (g.dilation[1] * (g.kernel[1] - 1) + 1)) / g.stride[1]) + 1;
      assert.deepEqual(y.shape, [input[0], param.numOutput, outH, outW]);
      const expected = referenceConv(
        x.dataSync(),
        input,
        weights!.dataSync(),
        bias!.dataSync(),
        param.numOutput!,
        [outH, outW],
        g,
      );
      assertClose(y.dataSync(), expected, 1e-4, name);
    });
  }

  it('leaves out the bias blob when bias_term is false', () => {
    const layer = convolution([1, 2, 4, 4], { numOutput: 2, kernelSize: [2], biasTerm: false });
    assert.equal(layer.blobs.length, 1);
  });

  it('passes the gradient check for a grouped conv with pad, stride and dilation (step 1e-2, tolerance 1e-3)', () => {
    const layer = convolution([1, 4, 6, 5], {
      numOutput: 4,
      kernelH: 2,
      kernelW: 3,
      group: 2,
      pad: [1],
      stride: [2],
      dilation: [2],
    });
    const compared = checkGradients(layer, [seeded([1, 4, 6, 5], 9)], { step: 1e-2, tolerance: 1e-3 });
    assert.equal(compared, 120 + 4 * 2 * 2 * 3 + 4);
  });

  it('rejects a group that does not divide the channels, naming the layer', () => {
    const spec = layerSpecFor(
      { x: [1, 4, 4, 4] },
      {
        name: 'conv',
        type: 'Convolution',
        bottom: ['x'],
        top: ['y'],
        convolutionParam: { numOutput: 6, kernelSize: [1], group: 2 },
      },
    );
    assert.throws(
      () => buildFromEditedSpec(spec, { convolutionParam: { numOutput: 6, kernelSize: [1], group: 3 } }),
      /layer "conv" \(Convolution\): convolution_param.group: expected a divisor of both the input channels \(4\) and num_output \(6\), received 3/,
    );
    assert.throws(
      () => buildFromEditedSpec(spec, { convolutionParam: { numOutput: 6, kernelSize: [0] } }),
      /convolution_param.kernel_size: expected a positive integer, received 0/,
    );
    assert.throws(
      () => buildFromEditedSpec(spec, { convolutionParam: { kernelSize: [1] } }),
      /num_output: expected a positive integer, received nothing/,
    );
  });

  it('is cross-correlation: a kernel with one tap at (0, 1) shifts the image left by one', () => {
    const layer = convolution([1, 1, 3, 3], { numOutput: 1, kernelSize: [3], pad: [1], biasTerm: false });
    layer.blobs[0]!.assign(tf.tensor4d([0, 0, 0, 0, 0, 1, 0, 0, 0], [1, 1, 3, 3]));
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    assert.deepEqual([...layer.forward([x], 0)[0]!.dataSync()], [2, 3, 0, 5, 6, 0, 8, 9, 0]);
  });
});

function geometry(
  group: number,
  kernel: [number, number],
  pad: [number, number],
  stride: [number, number],
  dilation: [number, number],
): Geometry {
  return { group, kernel, pad, stride, dilation };
}
