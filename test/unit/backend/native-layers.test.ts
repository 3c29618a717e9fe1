// The layers that take another path on the native TensorFlow backend than on the others (Pooling on
// channels-last images, LRN's window sum as a matrix product, ReLU's one-op gradient), forward and
// bottom gradient, against the same layers on the pure-JS backend. Skipped with the reason when the
// native backend is not provisioned (`npm run setup:native`).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { loadNativeBinding, nativeCacheDir } from '../../../trainer/backend/native.js';
import type { LayerParameter } from '../../../trainer/proto/messages.js';
import { buildLayer, seeded } from '../layers/support.js';
import { assertClose } from './compare.js';

const provisioned = existsSync(path.join(nativeCacheDir(), 'node_modules', '@tensorflow', 'tfjs-node'));
const skip = provisioned ? undefined : 'the native backend is not provisioned (npm run setup:native)';

const SHAPE = [2, 7, 9, 8];

const cases: { name: string; layer: LayerParameter; shape?: number[] }[] = [
  {
    name: 'MAX pooling, kernel 3, stride 2, pad 1 (rounded-up output)',
    layer: { type: 'Pooling', poolingParam: { pool: 0, kernelSize: 3, stride: 2, pad: 1 } },
  },
  {
    name: 'AVE pooling, kernel 3, stride 2, pad 1',
    layer: { type: 'Pooling', poolingParam: { pool: 1, kernelSize: 3, stride: 2, pad: 1 } },
  },
  {
    // Caffe clips the last window, which would start in the padding: the input's last row is trimmed.
    name: 'MAX pooling, kernel 2, stride 3, pad 1 (clipped output)',
    layer: { type: 'Pooling', poolingParam: { pool: 0, kernelSize: 2, stride: 3, pad: 1 } },
    shape: [2, 3, 5, 5],
  },
  {
    name: 'AVE pooling, kernel 2, stride 3, pad 1 (clipped output)',
    layer: { type: 'Pooling', poolingParam: { pool: 1, kernelSize: 2, stride: 3, pad: 1 } },
    shape: [2, 3, 5, 5],
  },
  {
    name: 'LRN across 5 channels',
    layer: { type: 'LRN', lrnParam: { localSize: 5, alpha: 0.3, beta: 0.75, k: 2 } },
  },
  { name: 'ReLU', layer: { type: 'ReLU' } },
];

/** The layer's top and d(Σ top · w)/d bottom, read back, on the backend that is current. */
async function forwardAndGradient(layer: LayerParameter, shape: number[]): Promise<Float32Array[]> {
  const built = buildLayer({ x: shape }, { name: 'under_test', bottom: ['x'], top: ['y'], ...layer });
  const out = tf.tidy(() => {
    const x = seeded(shape, 5, -2, 2);
    const top = built.forward([x], 0)[0]!;
    const weights = seeded(top.shape, 6);
    const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(built.forward([input], 0)[0]!, weights)))(x);
    return [top, dx];
  });
  const values = await Promise.all(out.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(out);
  built.dispose();
  return values;
}

describe('layers on the native backend agree with the pure-JS backend', { skip }, () => {
  for (const { name, layer, shape = SHAPE } of cases) {
    it(name, async () => {
      assert.ok(await tf.setBackend('cpu'));
      const expected = await forwardAndGradient(layer, shape);
      loadNativeBinding('cpu');
      assert.ok(await tf.setBackend('tensorflow'));
      const actual = await forwardAndGradient(layer, shape);
      assertClose(actual[0]!, expected[0]!, `${name}: top`);
      assertClose(actual[1]!, expected[1]!, `${name}: bottom gradient`);
      assert.ok(await tf.setBackend('cpu'));
    });
  }
});
