import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  buildFromEditedSpec,
  buildLayer,
  checkGradients,
  distinct,
  layerSpecFor,
  seeded,
  tf,
} from './support.js';

const PROD = 0;
const SUM = 1;
const MAX = 2;
const INPUTS = { a: [2, 3], b: [2, 3], c: [2, 3] };

function eltwise(param: object) {
  return buildLayer(INPUTS, {
    name: 'e',
    type: 'Eltwise',
    bottom: ['a', 'b', 'c'],
    top: ['y'],
    eltwiseParam: param,
  });
}

describe('Eltwise', () => {
  const a = tf.tensor2d([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const b = tf.tensor2d([
    [6, 5, 4],
    [3, 2, 1],
  ]);
  const c = tf.tensor2d([
    [2, 2, 2],
    [9, 0, 0],
  ]);

  it('sums with coefficients, multiplies, and takes the maximum', () => {
    assert.deepEqual([...eltwise({}).forward([a, b, c], 0)[0]!.dataSync()], [9, 9, 9, 16, 7, 7]);
    assert.deepEqual(
      [
        ...eltwise({ coeff: [1, -1, 0.5] })
          .forward([a, b, c], 0)[0]!
          .dataSync(),
      ],
      [-4, -2, 0, 5.5, 3, 5],
    );
    assert.deepEqual(
      [...eltwise({ operation: PROD }).forward([a, b, c], 0)[0]!.dataSync()],
      [12, 20, 24, 108, 0, 0],
    );
    assert.deepEqual(
      [...eltwise({ operation: MAX }).forward([a, b, c], 0)[0]!.dataSync()],
      [6, 5, 4, 9, 5, 6],
    );
  });

  it("sends a MAX tie's gradient to bottom 1 over bottom 0, and to the earlier winner after that", () => {
    const layer = eltwise({ operation: MAX });
    const x = tf.tensor2d([
      [1, 1, 0],
      [0, 0, 0],
    ]);
    const z = tf.tensor2d([
      [1, 0, 0],
      [0, 0, 0],
    ]);
    const grads = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) =>
      tf.sum(layer.forward([p, q, r], 0)[0]!),
    )([x, tf.clone(x), z]);
    // Element 0: all three tie → bottom 1 (it beat bottom 0; bottom 2 only ties). Element 1: 0 and 1 tie → 1.
    assert.deepEqual(
      grads.map((g) => [...g.dataSync()]),
      [
        [0, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1],
        [0, 0, 0, 0, 0, 0],
      ],
    );
  });

  for (const [name, param] of [
    ['SUM with coefficients', { operation: SUM, coeff: [0.5, -2, 3] }],
    ['PROD', { operation: PROD }],
    ['MAX', { operation: MAX }],
  ] as const) {
    it(`passes the gradient check for ${name} (step 1e-2, tolerance 1e-3)`, () => {
      const inputs = [distinct([2, 3], 1), distinct([2, 3], 2), distinct([2, 3], 3)].map((t, i) =>
        param.operation === MAX ? tf.add(t, i * 0.033) : seeded([2, 3], 10 + i),
      );
      assert.equal(checkGradients(eltwise(param), inputs, { step: 1e-2, tolerance: 1e-3 }), 18);
    });
  }

  it('rejects coefficients for PROD and a wrong number of them', () => {
    const spec = layerSpecFor(INPUTS, { name: 'e', type: 'Eltwise', bottom: ['a', 'b', 'c'], top: ['y'] });
    assert.throws(
      () => buildFromEditedSpec(spec, { eltwiseParam: { operation: PROD, coeff: [1, 1, 1] } }),
      /coefficients apply to SUM only/,
    );
    assert.throws(
      () => buildFromEditedSpec(spec, { eltwiseParam: { coeff: [1, 1] } }),
      /eltwise_param.coeff: expected one coefficient per bottom \(3\), received 2/,
    );
  });
});
