import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { InnerProductParameter } from '../../../trainer/proto/messages.js';
import { assertClose, buildLayer, checkGradients, seeded } from './support.js';

const GAUSSIAN = { type: 'gaussian', std: 1 };

function innerProduct(shape: number[], param: InnerProductParameter) {
  return buildLayer(
    { x: shape },
    {
      name: 'fc',
      type: 'InnerProduct',
      bottom: ['x'],
      top: ['y'],
      innerProductParam: { weightFiller: GAUSSIAN, biasFiller: GAUSSIAN, ...param },
    },
    { seed: 3 },
  );
}

/** y[m, n] = Σ_k x[m, k] · W[n, k] + b[n] (W transposed in storage when `transpose`). */
function reference(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
  transpose: boolean,
) {
  const out: number[] = [];
  for (let row = 0; row < m; row++) {
    for (let o = 0; o < n; o++) {
      let sum = b[o]!;
      for (let j = 0; j < k; j++) sum += x[row * k + j]! * w[transpose ? j * n + o : o * k + j]!;
      out.push(sum);
    }
  }
  return out;
}

describe('InnerProduct', () => {
  it('flattens from axis 1 and stores weights as (num_output, K)', () => {
    const layer = innerProduct([2, 3, 2, 2], { numOutput: 5 });
    const [w, b] = layer.blobs;
    assert.deepEqual(w!.shape, [5, 12]);
    assert.deepEqual(b!.shape, [5]);
    const x = seeded([2, 3, 2, 2], 1);
    const y = layer.forward([x], 0)[0]!;
    assert.deepEqual(y.shape, [2, 5]);
    assertClose(y.dataSync(), reference(x.dataSync(), w!.dataSync(), b!.dataSync(), 2, 12, 5, false), 1e-5);
  });

  it('keeps the axes before `axis` and stores (K, num_output) with transpose', () => {
    const layer = innerProduct([2, 3, 4], { numOutput: 2, axis: 2, transpose: true });
    const [w, b] = layer.blobs;
    assert.deepEqual(w!.shape, [4, 2]);
    const x = seeded([2, 3, 4], 2);
    const y = layer.forward([x], 0)[0]!;
    assert.deepEqual(y.shape, [2, 3, 2]);
    assertClose(y.dataSync(), reference(x.dataSync(), w!.dataSync(), b!.dataSync(), 6, 4, 2, true), 1e-5);
  });

  it('passes the gradient check, with and without transpose (step 1e-2, tolerance 1e-3)', () => {
    const plain = checkGradients(innerProduct([2, 3, 2], { numOutput: 3 }), [seeded([2, 3, 2], 4)], {
      step: 1e-2,
      tolerance: 1e-3,
    });
    assert.equal(plain, 12 + 18 + 3);
    const transposed = innerProduct([3, 4], { numOutput: 2, transpose: true, biasTerm: false });
    assert.equal(checkGradients(transposed, [seeded([3, 4], 5)], { step: 1e-2, tolerance: 1e-3 }), 12 + 8);
  });
});
