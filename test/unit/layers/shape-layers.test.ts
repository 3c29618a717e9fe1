// Flatten, Split, Silence: layers that only move or drop data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { buildLayer, checkGradients, seeded, tf } from './support.js';

describe('Flatten', () => {
  it('merges axis..end_axis: by default everything after the batch axis', () => {
    const x = seeded([2, 3, 4, 5], 1);
    const all = buildLayer({ x: [2, 3, 4, 5] }, { name: 'f', type: 'Flatten', bottom: ['x'], top: ['y'] });
    const y = all.forward([x], 0)[0]!;
    assert.deepEqual(y.shape, [2, 60]);
    assert.deepEqual(y.dataSync(), x.dataSync());
    const middle = buildLayer(
      { x: [2, 3, 4, 5] },
      { name: 'f', type: 'Flatten', bottom: ['x'], top: ['y'], flattenParam: { axis: 1, endAxis: 2 } },
    );
    assert.deepEqual(middle.forward([x], 0)[0]!.shape, [2, 12, 5]);
  });

  it('passes the gradient check (step 1e-2, tolerance 1e-3)', () => {
    const layer = buildLayer({ x: [2, 2, 3] }, { name: 'f', type: 'Flatten', bottom: ['x'], top: ['y'] });
    assert.equal(checkGradients(layer, [seeded([2, 2, 3], 2)], { step: 1e-2, tolerance: 1e-3 }), 12);
  });
});

describe('Split', () => {
  it('copies its bottom to every top, and the copies’ gradients add up', () => {
    const layer = buildLayer(
      { x: [2, 2] },
      { name: 's', type: 'Split', bottom: ['x'], top: ['a', 'b', 'c'] },
    );
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const tops = layer.forward([x], 0);
    assert.equal(tops.length, 3);
    for (const top of tops) assert.deepEqual([...top.dataSync()], [1, 2, 3, 4]);
    assert.equal(checkGradients(layer, [x], { step: 1e-2, tolerance: 1e-3 }), 4);
  });
});

describe('Silence', () => {
  it('takes any number of bottoms and gives no tops', () => {
    const layer = buildLayer({ a: [2], b: [3] }, { name: 's', type: 'Silence', bottom: ['a', 'b'] });
    assert.deepEqual(layer.forward([tf.zeros([2]), tf.zeros([3])], 0), []);
  });
});
