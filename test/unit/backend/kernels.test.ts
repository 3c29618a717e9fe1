// Every kernel we register for tfjs-backend-wasm, checked against the pure-JS backend (the reference)
// on small seeded inputs, tolerance as in compare.ts. Cases cover the shapes Caffe layers produce:
// strides, explicit padding, Caffe's round-up pooling, non-square kernels, batches, out-of-range ids.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';
import { heapMemory } from '../../../trainer/backend/wasm/copies.js';
import { LrnAcrossChannels } from '../../../trainer/backend/wasm/custom_kernel_names.js';
import { addedKernels, replacedKernels } from '../../../trainer/backend/wasm/register.js';
import { simdTranspose } from '../../../trainer/backend/wasm/simd_transpose.js';
import { lrnAcrossChannels } from '../../../trainer/net/layers/lean-gradients.js';
import { assertSameOnBackends, input, startWasm } from './compare.js';

type Pad =
  | 'valid'
  | 'same'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

const explicit = (top: number, bottom: number, left: number, right: number): Pad => [
  [0, 0],
  [top, bottom],
  [left, right],
  [0, 0],
];

describe('the wasm backend runs our kernels', () => {
  it('every added and replaced kernel is the one registered for wasm', async () => {
    await startWasm();
    for (const config of [...addedKernels, ...replacedKernels]) {
      assert.equal(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc, config.kernelFunc, config.kernelName);
    }
  });
});

describe('Conv2DBackpropFilter on wasm matches the pure-JS backend', () => {
  const cases: { name: string; x: number[]; filter: number[]; strides: number; pad: Pad }[] = [
    {
      name: 'a 3x3 kernel, stride 1, no padding',
      x: [2, 7, 7, 3],
      filter: [3, 3, 3, 4],
      strides: 1,
      pad: 'valid',
    },
    {
      name: 'a 3x3 kernel, stride 1, same padding',
      x: [2, 6, 5, 3],
      filter: [3, 3, 3, 2],
      strides: 1,
      pad: 'same',
    },
    {
      name: 'an 11x11 kernel at stride 4 (conv1)',
      x: [2, 27, 27, 3],
      filter: [11, 11, 3, 5],
      strides: 4,
      pad: 'valid',
    },
    { name: 'a 5x5 kernel with pad 2 (conv2)', x: [3, 9, 9, 4], filter: [5, 5, 4, 6], strides: 1, pad: 2 },
    { name: 'stride 2 leaving rows unused', x: [1, 8, 8, 2], filter: [3, 3, 2, 3], strides: 2, pad: 'valid' },
    {
      name: 'asymmetric explicit padding, non-square kernel',
      x: [2, 7, 6, 3],
      filter: [3, 2, 3, 4],
      strides: 2,
      pad: explicit(1, 0, 2, 1),
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      await assertSameOnBackends(() => {
        const x = input(c.x, 1);
        const w = input(c.filter, 2);
        const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad);
        const dy = input(y.shape, 3);
        return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
          strides: [c.strides, c.strides],
          pad: c.pad,
          dataFormat: 'NHWC',
          filterShape: c.filter,
        } as never) as tf.Tensor;
      }, c.name);
    });
  }
});

describe('Conv2DBackpropInput on wasm matches the pure-JS backend', () => {
  const cases: { name: string; x: number[]; filter: number[]; strides: number; pad: Pad }[] = [
    { name: 'a 3x3 kernel with pad 1 (conv3-5)', x: [2, 6, 6, 4], filter: [3, 3, 4, 5], strides: 1, pad: 1 },
    { name: 'a 5x5 kernel with pad 2 (conv2)', x: [2, 7, 7, 3], filter: [5, 5, 3, 4], strides: 1, pad: 2 },
    { name: 'no padding', x: [1, 6, 5, 2], filter: [3, 2, 2, 3], strides: 1, pad: 'valid' },
    { name: 'same padding, even kernel', x: [2, 5, 5, 2], filter: [2, 2, 2, 3], strides: 1, pad: 'same' },
    {
      name: 'padding wider than the kernel (falls back)',
      x: [1, 4, 4, 2],
      filter: [2, 2, 2, 2],
      strides: 1,
      pad: 2,
    },
    {
      name: 'stride 2 (falls back to the original kernel)',
      x: [2, 9, 9, 3],
      filter: [3, 3, 3, 4],
      strides: 2,
      pad: 1,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      await assertSameOnBackends(() => {
        const x = input(c.x, 4);
        const w = input(c.filter, 5);
        const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad);
        const dy = input(y.shape, 6);
        return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, {
          strides: [c.strides, c.strides],
          pad: c.pad,
          dataFormat: 'NHWC',
          inputShape: c.x,
        } as never) as tf.Tensor;
      }, c.name);
    });
  }
});

describe('BatchMatMul on wasm matches the pure-JS backend', () => {
  for (const [transposeA, transposeB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`with transposeA=${transposeA}, transposeB=${transposeB}, rank 2 and batched rank 3`, async () => {
      await assertSameOnBackends(() => {
        const a2 = input(transposeA ? [7, 5] : [5, 7], 7);
        const b2 = input(transposeB ? [3, 7] : [7, 3], 8);
        const a3 = input(transposeA ? [2, 7, 5] : [2, 5, 7], 9);
        const b3 = input(transposeB ? [2, 3, 7] : [2, 7, 3], 10);
        return [tf.matMul(a2, b2, transposeA, transposeB), tf.matMul(a3, b3, transposeA, transposeB)];
      }, `matMul ${transposeA} ${transposeB}`);
    });
  }
});

describe('BatchMatMul on wasm transposes the product rather than a large operand', () => {
  it("x·Wᵀ with Caffe's [out, in] weights (transposeB, large right operand)", async () => {
    await assertSameOnBackends(() => tf.matMul(input([2, 30], 18), input([40, 30], 19), false, true), 'x·Wᵀ');
  });
  it('a transposeA product with a large left operand', async () => {
    await assertSameOnBackends(() => tf.matMul(input([30, 40], 20), input([30, 2], 21), true, false), 'Aᵀ·b');
  });
  it('both transposed, broadcasting a batch of one', async () => {
    await assertSameOnBackends(
      () => tf.matMul(input([2, 25, 3], 22), input([1, 30, 25], 23), true, true),
      'broadcast',
    );
  });
});

describe('Identity and Transpose on wasm match the pure-JS backend', () => {
  it("runs the SIMD block transpose on the backend's own memory (the path the cases below check)", async () => {
    await startWasm();
    await tf.setBackend('wasm');
    assert.equal(typeof simdTranspose(heapMemory(tf.backend() as never)), 'function');
  });
  it('transposes the last two dimensions of a batch in tiles larger and smaller than a tile', async () => {
    await assertSameOnBackends(
      () => [
        tf.transpose(input([2, 300, 270], 24), [0, 2, 1]),
        tf.transpose(input([2, 70, 45], 50), [0, 2, 1]),
        // Rows left over after the four-row passes, in a tile that is not full.
        tf.transpose(input([2, 301, 263], 55), [0, 2, 1]),
        tf.transpose(input([3, 5], 25)),
      ],
      'swap last two',
    );
  });
  it('NCHW <-> NHWC, [1,2,0,3] (blocks), size-1 axes and a 3-D swap of the outer two', async () => {
    await assertSameOnBackends(
      () => [
        tf.transpose(input([2, 5, 7, 3], 28), [0, 2, 3, 1]),
        tf.transpose(input([2, 7, 3, 5], 29), [0, 3, 1, 2]),
        tf.transpose(input([3, 4, 5, 20], 30), [1, 2, 0, 3]),
        tf.transpose(input([3, 4, 5, 2], 31), [1, 2, 0, 3]),
        tf.transpose(input([1, 6, 1, 9], 32), [3, 1, 2, 0]),
        tf.transpose(input([3, 4, 5, 6], 46), [3, 1, 2, 0]),
        tf.transpose(input([4, 3, 5], 47), [2, 1, 0]),
        tf.transpose(input([2, 4, 3, 5, 18], 48), [0, 3, 2, 1, 4]),
        // Large enough on both sides to be tiled rather than left to the stock loop.
        tf.transpose(input([2, 256, 17, 16], 51), [0, 2, 3, 1]),
        tf.transpose(input([2, 17, 16, 260], 52), [0, 3, 1, 2]),
        tf.transpose(input([257, 2, 3, 258], 53), [3, 1, 2, 0]),
        tf.transpose(tf.cast(tf.mul(input([300, 260], 54), 1000), 'int32'), [1, 0]),
        tf.transpose(input([33, 1, 40], 33), [2, 1, 0]),
        tf.transpose(input([4, 1, 5], 34), [0, 2, 1]),
        tf.transpose(tf.cast(tf.mul(input([3, 70], 35), 1000), 'int32'), [1, 0]),
      ],
      'merged swaps',
    );
  });
  it('other permutations (kept on the stock kernel)', async () => {
    await assertSameOnBackends(() => tf.transpose(input([2, 3, 4, 5], 26), [1, 3, 0, 2]), 'perm 1302');
  });
  it('a clone has the same values and survives the original', async () => {
    await assertSameOnBackends(() => {
      const x = input([4, 5], 27);
      const copy = tf.clone(x);
      x.dispose();
      return tf.mul(copy, 2);
    }, 'clone');
  });
});

describe('Slice on wasm matches the pure-JS backend', () => {
  it('contiguous runs: a padding gradient, a channel window, whole rows, one element, int32', async () => {
    await assertSameOnBackends(
      () => [
        tf.slice(input([3, 10, 29, 1], 36), [0, 2, 0, 0], [3, 6, 29, 1]),
        tf.slice(input([2, 9, 8, 40], 37), [1, 1, 2, 0], [1, 7, 5, 40]),
        tf.slice(input([2, 9, 8, 40], 38), [0, 0, 0, 3], [2, 9, 8, 30]),
        tf.slice(input([5, 40], 39), [2, 0], [-1, -1]),
        tf.slice(input([5, 40], 40), [4, 39], [1, 1]),
        tf.slice(input([64], 41), [5], [50]),
        tf.slice(input([4, 3, 0, 2], 42), [0, 0, 0, 0], [4, 3, 0, 2]),
        tf.slice(tf.cast(tf.mul(input([6, 50], 43), 1000), 'int32'), [1, 3], [4, 40]),
      ],
      'slices',
    );
  });
});

describe('pooling gradients on wasm match the pure-JS backend', () => {
  const cases: { name: string; x: number[]; size: number; stride: number; pad: Pad; round?: 'ceil' }[] = [
    {
      name: 'kernel 3 stride 2, overlapping windows (pool1)',
      x: [2, 11, 11, 3],
      size: 3,
      stride: 2,
      pad: 'valid',
    },
    { name: 'kernel 2 stride 2', x: [2, 6, 6, 4], size: 2, stride: 2, pad: 'valid' },
    { name: 'same padding', x: [1, 5, 7, 2], size: 3, stride: 2, pad: 'same' },
    {
      name: "Caffe's round-up: 6x5 input, kernel 3, stride 2",
      x: [1, 6, 5, 2],
      size: 3,
      stride: 2,
      pad: 0,
      round: 'ceil',
    },
    { name: 'explicit padding 1', x: [2, 5, 5, 3], size: 3, stride: 2, pad: 1 },
    {
      name: 'one channel (how Pooling calls it), stride 2',
      x: [6, 11, 9, 1],
      size: 3,
      stride: 2,
      pad: 'valid',
    },
    { name: 'one channel, padding 1', x: [4, 8, 7, 1], size: 3, stride: 2, pad: 1 },
    { name: 'one channel, kernel 2 stride 2, same', x: [3, 7, 6, 1], size: 2, stride: 2, pad: 'same' },
  ];
  for (const c of cases) {
    it(`MaxPoolGrad: ${c.name}`, async () => {
      await assertSameOnBackends(() => {
        const x = input(c.x, 11) as tf.Tensor4D;
        return tf.grad((v: tf.Tensor) =>
          tf.sum(
            tf.mul(tf.maxPool(v as tf.Tensor4D, c.size, c.stride, c.pad, c.round), input(outShape(c), 12)),
          ),
        )(x);
      }, c.name);
    });
    it(`AvgPoolGrad: ${c.name}`, async () => {
      await assertSameOnBackends(() => {
        const x = input(c.x, 13);
        return tf.grad((v: tf.Tensor) =>
          tf.sum(
            tf.mul(tf.avgPool(v as tf.Tensor4D, c.size, c.stride, c.pad, c.round), input(outShape(c), 14)),
          ),
        )(x);
      }, c.name);
    });
  }

  it('round-up pooling forward (Caffe sizing) fills every output cell, as the reference does', async () => {
    // tfjs-backend-wasm left the rounded-up last row and column uninitialised.
    await assertSameOnBackends(() => {
      const x = input([2, 7, 6, 3], 21) as tf.Tensor4D;
      return [tf.maxPool(x, 3, 2, 1, 'ceil'), tf.avgPool(x, 3, 2, 1, 'ceil'), tf.maxPool(x, 3, 2, 0, 'ceil')];
    }, 'round-up pooling');
  });

  it("AvgPoolGrad over LRN's window: 5x1, stride 1, one channel", async () => {
    await assertSameOnBackends(() => {
      const x = input([3, 9, 13, 1], 44);
      return tf.grad((v: tf.Tensor) =>
        tf.sum(tf.mul(tf.avgPool(v as tf.Tensor4D, [5, 1], 1, 'valid'), input([3, 5, 13, 1], 45))),
      )(x);
    }, 'lrn window');
  });

  it('MaxPoolGrad without the forward output (full scan) agrees with the reference, odd planes', async () => {
    // tf.grad passes the forward's maxima (the equality scan); a direct call may leave them out.
    await assertSameOnBackends(() => {
      const x = tf.round(tf.mul(input([5, 13, 11, 1], 62), 3)) as tf.Tensor4D; // many ties
      const dy = input([5, 6, 5, 1], 63);
      const attrs = { filterSize: [3, 3], strides: [2, 2], pad: 'valid' };
      const withOutput = tf
        .engine()
        .runKernel(
          'MaxPoolGrad',
          { dy, input: x, output: tf.maxPool(x, 3, 2, 'valid') },
          attrs as never,
        ) as tf.Tensor;
      const without = tf.engine().runKernel('MaxPoolGrad', { dy, input: x }, attrs as never) as tf.Tensor;
      return [withOutput, without];
    }, 'max pool grad with and without output');
  });

  it('MaxPoolGrad sends a tied window to its first maximum, as the reference does', async () => {
    await assertSameOnBackends(() => {
      const x = tf.tensor4d([1, 5, 5, 1, 5, 2, 0, 5, 5], [1, 3, 3, 1]);
      return tf.grad((v: tf.Tensor) =>
        tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, 2, 1, 'valid'), tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]))),
      )(x);
    }, 'ties');
  });

  function outShape(c: { x: number[]; size: number; stride: number; pad: Pad; round?: 'ceil' }): number[] {
    return tf.maxPool(tf.zeros(c.x) as unknown as tf.Tensor4D, c.size, c.stride, c.pad, c.round).shape;
  }
});

describe('LRN across channels as one kernel each way on wasm matches the ops the pure-JS backend composes', () => {
  // Large alpha so the normalisation, not the identity, dominates; odd shapes; windows wider than C.
  const cases = [
    {
      name: 'CaffeNet settings scaled up (beta 0.75)',
      x: [2, 7, 3, 5],
      localSize: 5,
      alpha: 2,
      beta: 0.75,
      k: 1,
    },
    { name: 'window wider than the channels', x: [1, 3, 4, 4], localSize: 5, alpha: 1.5, beta: 0.75, k: 1 },
    {
      name: 'local_size 3, beta 0.6, k 2 (Math.pow path)',
      x: [3, 5, 2, 3],
      localSize: 3,
      alpha: 3,
      beta: 0.6,
      k: 2,
    },
    { name: 'local_size 1, one channel', x: [2, 1, 5, 3], localSize: 1, alpha: 1, beta: 1.3, k: 0.5 },
    { name: 'local_size 7, 1x1 planes', x: [4, 9, 1, 1], localSize: 7, alpha: 1, beta: 0.75, k: 1 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      await startWasm();
      assert.ok(tf.getKernel(LrnAcrossChannels, 'wasm'), 'the fused kernel is registered on wasm');
      await assertSameOnBackends(() => {
        const x = input(c.x, 60) as tf.Tensor4D;
        const upstream = input(c.x, 61);
        const f = (v: tf.Tensor) => lrnAcrossChannels(v as tf.Tensor4D, c);
        return [f(x), tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), upstream)))(x)];
      }, c.name);
    });
  }
});

describe('UnsortedSegmentSum on wasm matches the pure-JS backend', () => {
  it('sums rows into segments and drops ids out of range', async () => {
    await assertSameOnBackends(() => {
      const x = input([6, 4], 15);
      const ids = tf.tensor1d([2, 0, 2, 5, -1, 1], 'int32');
      return tf.unsortedSegmentSum(x, ids, 3);
    }, 'segment sum');
  });

  it('is the gradient of gather (a label lookup)', async () => {
    await assertSameOnBackends(() => {
      const table = input([5, 3], 16);
      const picks = tf.tensor1d([4, 1, 4, 0], 'int32');
      return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, picks), input([4, 3], 17))))(table);
    }, 'gather gradient');
  });
});
