// Shared by the net tests: tiny nets from prototxt text, seeded inputs, and reading tensors.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { Net } from '../../../trainer/net/net.js';
import { buildNetSpec } from '../../../trainer/net/spec/index.js';
import { parseNetPrototxt } from '../../../trainer/proto/index.js';
import { Rng } from '../../../trainer/rng.js';

await tf.setBackend('cpu');

export { tf };

/** A Net built from prototxt text for `phase` (0 TRAIN), its fillers drawn from Rng(seed). */
export function netFrom(prototxt: string, options: { phase?: number; seed?: number } = {}): Net {
  const spec = buildNetSpec(parseNetPrototxt(prototxt, 'test.prototxt'), {
    phase: options.phase ?? 0,
    fileName: 'test.prototxt',
  });
  return Net.fromSpec(spec, { rng: new Rng(options.seed ?? 1) });
}

/** Values uniform in [min, max) from Rng(seed). */
export function seededValues(count: number, seed: number, min = -1, max = 1): Float32Array {
  const rng = new Rng(seed);
  const values = new Float32Array(count);
  for (let i = 0; i < values.length; i++) values[i] = rng.uniform(min, max);
  return values;
}

/** The tiny net of the tests: Input → Convolution → ReLU (in place) → Pooling → InnerProduct → SoftmaxWithLoss. */
export const TINY_NET = `
name: "tiny"
layer { name: "input" type: "Input" top: "data" top: "label"
  input_param { shape { dim: 2 dim: 1 dim: 6 dim: 6 } shape { dim: 2 } } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: 2 kernel_size: 3
    weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "uniform" min: -0.1 max: 0.1 } } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip" type: "InnerProduct" bottom: "pool" top: "ip"
  inner_product_param { num_output: 3
    weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "uniform" min: -0.1 max: 0.1 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`;

/** Feeds the tiny net's Input layer: seeded images and the labels given. */
export function feedTiny(net: Net, labels = [1, 2], seed = 7): Float32Array {
  const images = seededValues(2 * 36, seed);
  const input = net.layer('input') as unknown as { feed(values: tf.Tensor[]): void };
  input.feed([tf.tensor(images, [2, 1, 6, 6]), tf.tensor(labels, [2])]);
  return images;
}
