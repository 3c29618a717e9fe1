// Conv2DBackpropFilter on wasm within its scratch budget: a gradient whose scratch would pass the
// 4 GiB heap is worked in bands of output rows and summed. The split path is checked against the
// pure-JS backend with the budget lowered, and run once at full size: dY of [64, 256, 256, 64]
// (1 GiB), which in one piece left the gradient unwritten (XNNPACK could not allocate its packed
// copy of dY) or aborted the process.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { rowBands } from '../../../trainer/backend/wasm/conv2d_backprop_filter.js';
import {
  defaultScratchBudget,
  getScratchBudget,
  setScratchBudget,
  splitRuns,
} from '../../../trainer/backend/wasm/scratch_budget.js';
import { assertSameOnBackends, input, startWasm } from './compare.js';

type Pad =
  | 'valid'
  | 'same'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

describe('splitRuns', () => {
  it('covers every item once, in order, each run within the budget and as even as can be', () => {
    for (const [total, bytes, budget] of [
      [64, 52, 1024],
      [7, 10, 25],
      [13, 1, 1000],
      [5, 100, 10],
    ] as const) {
      const runs = splitRuns(total, bytes, budget);
      let next = 0;
      for (const [start, count] of runs) {
        assert.equal(start, next, `runs of ${total} are consecutive`);
        assert.ok(count >= 1 && (count * bytes <= budget || count === 1), `run [${start}, ${count}] fits`);
        next += count;
      }
      assert.equal(next, total);
      const counts = runs.map(([, count]) => count);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `even runs: ${counts}`);
      assert.equal(runs.length, Math.ceil(total / Math.max(1, Math.floor(budget / bytes))));
    }
  });

  it('refuses a budget that is not a positive number of bytes, and restores the default', () => {
    assert.throws(() => setScratchBudget(0), /expected a positive number of bytes, received 0/);
    assert.throws(() => setScratchBudget(Number.NaN), /received NaN/);
    const before = setScratchBudget(1234);
    assert.equal(getScratchBudget(), 1234);
    setScratchBudget();
    assert.equal(getScratchBudget(), defaultScratchBudget);
    setScratchBudget(before);
  });
});

const cases: { name: string; x: number[]; filter: number[]; strides: number; pad: Pad }[] = [
  { name: "3x3, stride 1, 'same'", x: [3, 11, 9, 2], filter: [3, 3, 2, 4], strides: 1, pad: 'same' },
  { name: '11x11 at stride 4 with pad 2', x: [2, 31, 27, 3], filter: [11, 11, 3, 5], strides: 4, pad: 2 },
  { name: 'stride 2 leaving rows unused', x: [2, 12, 8, 2], filter: [3, 3, 2, 3], strides: 2, pad: 'valid' },
  {
    name: 'asymmetric explicit padding, non-square kernel',
    x: [2, 13, 6, 3],
    filter: [3, 2, 3, 4],
    strides: 2,
    pad: [
      [0, 0],
      [1, 0],
      [2, 1],
      [0, 0],
    ],
  },
  { name: 'padding wider than the kernel', x: [2, 5, 5, 1], filter: [2, 2, 1, 2], strides: 1, pad: 3 },
];

/** A budget that splits case `c` into bands of about two output rows. */
function bandingBudget(c: (typeof cases)[number]): { budget: number; bands: number } {
  const info = tf.backend_util.computeConv2DInfo(
    c.x as [number, number, number, number],
    c.filter as [number, number, number, number],
    c.strides,
    1,
    c.pad,
  );
  const [batch, , width, channels] = c.x as [number, number, number, number];
  const budget =
    4 * batch * (info.outWidth * 3 * 8 * 2 + (info.filterHeight + 2 * c.strides) * width * channels * 2);
  const padBottom = Math.max(
    0,
    info.filterHeight + (info.outHeight - 1) * info.strideHeight - info.inHeight - info.padInfo.top,
  );
  return { budget, bands: rowBands(info, padBottom, budget)?.length ?? 1 };
}

describe('Conv2DBackpropFilter on wasm, split into bands of rows, matches the pure-JS backend', () => {
  after(() => setScratchBudget());
  for (const c of cases) {
    it(c.name, async () => {
      const { budget, bands } = bandingBudget(c);
      assert.ok(bands > 1, `the budget splits the work (${bands} band)`);
      const compute = () => {
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
      };
      await startWasm();
      const previous = setScratchBudget(budget);
      try {
        await assertSameOnBackends(compute, c.name);
      } finally {
        setScratchBudget(previous);
      }
    });
  }
});

describe('Conv2DBackpropFilter on wasm with a 1 GiB output gradient', () => {
  it('computes the gradient of a 64x1x256x256 input, 64 outputs, 1x1 kernel', async () => {
    // x[n] = a_n everywhere and dy[n, y, x, o] = b_n * c_o, so dW[o] = 256² * c_o * Σ a_n b_n exactly
    // (in float64); every image and channel pairing counts. Built on wasm: the pure-JS backend would
    // take minutes at this size.
    const [batch, size, outputs] = [64, 256, 64];
    const a = Float32Array.from({ length: batch }, (_, n) => (n % 5) - 2);
    const b = Float32Array.from({ length: batch }, (_, n) => (n % 3) + 1);
    const c = Float32Array.from({ length: outputs }, (_, o) => (o % 4) - 1.5);
    await startWasm();
    assert.ok(await tf.setBackend('wasm'));
    assert.equal(getScratchBudget(), defaultScratchBudget);
    const grad = tf.tidy(() => {
      const x = tf.mul(tf.tensor(a, [batch, 1, 1, 1]), tf.ones([1, size, size, 1]));
      const perImage = tf.mul(tf.tensor(b, [batch, 1, 1, 1]), tf.tensor(c, [1, 1, 1, outputs]));
      const dy = tf.mul(perImage, tf.ones([1, size, size, 1]));
      assert.equal(dy.size * 4, 2 ** 30, 'dY is 1 GiB');
      return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: [1, 1],
        pad: 'valid',
        dataFormat: 'NHWC',
        filterShape: [1, 1, 1, outputs],
      } as never) as tf.Tensor;
    });
    const values = await grad.data();
    grad.dispose();
    let pairing = 0;
    for (let n = 0; n < batch; n++) pairing += a[n]! * b[n]!;
    assert.equal(values.length, outputs);
    values.forEach((value, o) => {
      const expected = size * size * c[o]! * pairing;
      assert.ok(
        Math.abs(value - expected) <= 1e-4 * Math.abs(expected),
        `dW[${o}] is ${value}, expected ${expected}`,
      );
    });
  });
});
