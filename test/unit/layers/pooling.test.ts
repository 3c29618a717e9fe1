import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import type { PoolingParameter } from '../../../trainer/proto/messages.js';
import {
  assertClose,
  buildFromEditedSpec,
  buildLayer,
  checkGradients,
  distinct,
  layerSpecFor,
  seeded,
  tf,
  valuesOf,
} from './support.js';

const MAX = 0;
const AVE = 1;

function pooling(shape: number[], param: PoolingParameter) {
  return buildLayer(
    { x: shape },
    { name: 'pool', type: 'Pooling', bottom: ['x'], top: ['y'], poolingParam: param },
  );
}

interface Window {
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
}

/** Caffe's pooling of one plane written as its loops: windows clipped to the image, AVE divided by the
 * window's size clipped to the padded input. */
function referencePool(
  x: ArrayLike<number>,
  [height, width]: [number, number],
  [outH, outW]: [number, number],
  { kernel, stride, pad }: Window,
  method: number,
): number[] {
  const out: number[] = [];
  for (let oh = 0; oh < outH; oh++) {
    for (let ow = 0; ow < outW; ow++) {
      let hStart = oh * stride[0] - pad[0];
      let wStart = ow * stride[1] - pad[1];
      let hEnd = Math.min(hStart + kernel[0], height + pad[0]);
      let wEnd = Math.min(wStart + kernel[1], width + pad[1]);
      const poolSize = (hEnd - hStart) * (wEnd - wStart);
      hStart = Math.max(hStart, 0);
      wStart = Math.max(wStart, 0);
      hEnd = Math.min(hEnd, height);
      wEnd = Math.min(wEnd, width);
      let max = Number.NEGATIVE_INFINITY;
      let sum = 0;
      for (let h = hStart; h < hEnd; h++) {
        for (let w = wStart; w < wEnd; w++) {
          max = Math.max(max, x[h * width + w]!);
          sum += x[h * width + w]!;
        }
      }
      out.push(method === MAX ? max : sum / poolSize);
    }
  }
  return out;
}

function window(kernel: [number, number], stride: [number, number], pad: [number, number]): Window {
  return { kernel, stride, pad };
}

describe('Pooling', () => {
  it('rounds the output up: a 6x5 input, kernel 3, stride 2 gives 3x2 (TF "valid" gives 2x2)', () => {
    const x = tf.tensor4d(
      Array.from({ length: 30 }, (_, i) => i),
      [1, 1, 6, 5],
    ); // x[r][c] = 5r + c
    const max = pooling([1, 1, 6, 5], { kernelSize: 3, stride: 2 }).forward([x], 0)[0]!;
    assert.deepEqual(max.shape, [1, 1, 3, 2]);
    // Each window's largest value is its bottom-right cell; the last row of windows covers rows 4..5 only.
    assert.deepEqual(valuesOf(max), [12, 14, 22, 24, 27, 29]);
    const ave = pooling([1, 1, 6, 5], { pool: AVE, kernelSize: 3, stride: 2 }).forward([x], 0)[0]!;
    // Last window row: rows 4..5, cols 0..2 → mean of 20, 21, 22, 25, 26, 27 = 23.5 (divisor 6, not 9).
    assert.deepEqual(valuesOf(ave), [6, 8, 16, 18, 23.5, 25.5]);
  });

  it('divides AVE by the window clipped to the padded input, not by kernel² nor by the image cells', () => {
    // 4x4 ones, kernel 3, stride 2, pad 1 → 3x3. Per axis the windows are [-1,2), [1,4), [3,5): sizes 3, 3, 2
    // (the last clipped at 4 + pad = 5) holding 2, 3, 1 image cells.
    const ones = tf.ones([1, 1, 4, 4]);
    const y = pooling([1, 1, 4, 4], { pool: AVE, kernelSize: 3, stride: 2, pad: 1 }).forward([ones], 0)[0]!;
    assert.deepEqual(y.shape, [1, 1, 3, 3]);
    const cells = [2, 3, 1];
    const sizes = [3, 3, 2];
    const expected = cells.flatMap((rc, r) => cells.map((cc, c) => (rc * cc) / (sizes[r]! * sizes[c]!)));
    assertClose(y.dataSync(), expected, 1e-6, 'AVE');
    assert.deepEqual(expected.slice(0, 3), [4 / 9, 6 / 9, 2 / 6]);
  });

  it('ignores padding in MAX, so an all-negative corner window gives its one image cell', () => {
    const x = tf.tensor4d([-1, -2, -3, -4, -5, -6, -7, -8, -9], [1, 1, 3, 3]);
    const y = pooling([1, 1, 3, 3], { kernelSize: 2, stride: 1, pad: 1 }).forward([x], 0)[0]!;
    assert.deepEqual(y.shape, [1, 1, 4, 4]);
    assert.deepEqual(valuesOf(y), [-1, -1, -2, -3, -1, -1, -2, -3, -4, -4, -5, -6, -7, -7, -8, -9]);
  });

  const cases: [string, PoolingParameter, Window, [number, number, number, number]][] = [
    [
      'MAX, pad 1, round-up',
      { kernelSize: 3, stride: 2, pad: 1 },
      window([3, 3], [2, 2], [1, 1]),
      [2, 3, 7, 6],
    ],
    [
      'AVE, pad 2, clip drops a window',
      { pool: AVE, kernelSize: 3, stride: 3, pad: 2 },
      window([3, 3], [3, 3], [2, 2]),
      [1, 2, 7, 7],
    ],
    [
      'MAX, rectangular kernel and strides',
      { kernelH: 3, kernelW: 2, strideH: 2, strideW: 1 },
      window([3, 2], [2, 1], [0, 0]),
      [1, 2, 6, 5],
    ],
    [
      'AVE, pad_h/pad_w',
      { pool: AVE, kernelSize: 3, stride: 2, padH: 1, padW: 2 },
      window([3, 3], [2, 2], [1, 2]),
      [1, 1, 5, 6],
    ],
  ];
  for (const [name, param, geometry, input] of cases) {
    it(`matches Caffe's loops: ${name}`, () => {
      const x = seeded(input, 21);
      const y = pooling(input, param).forward([x], 0)[0]!;
      const [n, c, h, w] = input;
      const [, , outH, outW] = y.shape as [number, number, number, number];
      const xs = x.dataSync();
      const expected: number[] = [];
      for (let plane = 0; plane < n * c; plane++) {
        const values = xs.slice(plane * h * w, (plane + 1) * h * w);
        expected.push(...referencePool(values, [h, w], [outH, outW], geometry, param.pool ?? MAX));
      }
      assertClose(y.dataSync(), expected, 1e-5, name);
    });
  }

  it('clips the last window with padding: 7x7, kernel 3, stride 3, pad 2 gives 3x3, not 4x4', () => {
    const layer = pooling([1, 1, 7, 7], { kernelSize: 3, stride: 3, pad: 2 });
    assert.deepEqual(layer.forward([tf.zeros([1, 1, 7, 7])], 0)[0]!.shape, [1, 1, 3, 3]);
  });

  it('pools the whole plane with global_pooling', () => {
    const x = seeded([2, 3, 4, 5], 5);
    const ave = pooling([2, 3, 4, 5], { pool: AVE, globalPooling: true }).forward([x], 0)[0]!;
    assert.deepEqual(ave.shape, [2, 3, 1, 1]);
    assertClose(ave.dataSync(), tf.mean(x, [2, 3]).dataSync(), 1e-5, 'global AVE');
    const max = pooling([2, 3, 4, 5], { globalPooling: true }).forward([x], 0)[0]!;
    assertClose(max.dataSync(), tf.max(x, [2, 3]).dataSync(), 1e-6, 'global MAX');
  });

  // Step 1e-2 on inputs spaced 0.1 apart: no window changes its winner, so MAX is linear around each point.
  it('passes the gradient check for MAX with pad and round-up (step 1e-2, tolerance 1e-3)', () => {
    const layer = pooling([1, 2, 5, 6], { kernelSize: 3, stride: 2, pad: 1 });
    assert.equal(checkGradients(layer, [distinct([1, 2, 5, 6], 3)], { step: 1e-2, tolerance: 1e-3 }), 60);
  });

  it('passes the gradient check for AVE with pad and round-up (step 1e-2, tolerance 1e-3)', () => {
    const layer = pooling([1, 2, 6, 5], { pool: AVE, kernelSize: 3, stride: 2, pad: 1 });
    assert.equal(checkGradients(layer, [seeded([1, 2, 6, 5], 4)], { step: 1e-2, tolerance: 1e-3 }), 60);
  });

  it('rejects a zero kernel at set-up, naming the layer and the field', () => {
    const spec = layerSpecFor(
      { x: [1, 1, 4, 4] },
      { name: 'pool', type: 'Pooling', bottom: ['x'], top: ['y'], poolingParam: { kernelSize: 2 } },
    );
    assert.throws(
      () => buildFromEditedSpec(spec, { poolingParam: { kernelSize: 0 } }),
      (e: unknown) =>
        e instanceof BadInputError &&
        e.message ===
          'layer "pool" (Pooling): pooling_param.kernel_size: expected a positive integer, received 0',
    );
    assert.throws(
      () => buildFromEditedSpec(spec, { poolingParam: { kernelSize: 2, pad: 2 } }),
      /pooling_param.pad: expected less than the kernel size 2, received 2/,
    );
    assert.throws(
      () => buildFromEditedSpec(spec, { poolingParam: { kernelSize: 2, pool: 2 } }),
      /STOCHASTIC is not supported/,
    );
  });
});
