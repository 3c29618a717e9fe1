// Forward parity with OpenCV's cv2.dnn on CaffeNet's own deploy net (trainer/models, batch 1 here):
// random weights of CaffeNet's 60,965,224 parameters saved by our .caffemodel writer, one random
// mean-subtracted-looking image, every layer's output compared.
import '@tensorflow/tfjs-backend-cpu';

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';

import { Rng } from '../../../trainer/rng.js';
import {
  assertMatchesCv2,
  compareWithCv2,
  needsCv2,
  PARITY_BACKENDS,
  randomizeWeights,
  randomValues,
  repoRoot,
  testNet,
  useBackend,
} from './support.js';

const LAYERS = [
  'conv1',
  'relu1',
  'pool1',
  'norm1',
  'conv2',
  'relu2',
  'pool2',
  'norm2',
  'conv3',
  'relu3',
  'conv4',
  'relu4',
  'conv5',
  'relu5',
  'pool5',
  'fc6',
  'relu6',
  'drop6',
  'fc7',
  'relu7',
  'drop7',
  'fc8',
  'prob',
];

describe('forward parity with cv2.dnn on CaffeNet', () => {
  for (const backend of PARITY_BACKENDS) {
    it(`matches layer by layer on bvlc_reference_caffenet/deploy.prototxt on ${backend.name}`, {
      skip: backend.skip,
    }, async (t) => {
      if (!needsCv2(t)) return;
      await useBackend(backend.name);
      const file = path.join(repoRoot, 'trainer/models/bvlc_reference_caffenet/deploy.prototxt');
      const deploy = await readFile(file, 'utf8');
      const batchOne = deploy.replace('dim: 10 dim: 3 dim: 227 dim: 227', 'dim: 1 dim: 3 dim: 227 dim: 227');
      assert.notEqual(batchOne, deploy, 'the deploy net should declare a 10x3x227x227 input');
      const net = testNet(batchOne, file);
      try {
        const rng = new Rng(227);
        randomizeWeights(net, rng);
        const input = { shape: [1, 3, 227, 227], values: randomValues(3 * 227 * 227, rng, -128, 128) };
        const comparisons = await compareWithCv2(net, batchOne, 'data', input, LAYERS);
        assertMatchesCv2(t, comparisons);
      } finally {
        net.dispose();
      }
    });
  }
});
