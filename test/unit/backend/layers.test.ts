// The tfjs ops each supported Caffe layer trains with, forward and backward, on wasm against the
// pure-JS backend: proof that no kernel a layer needs is missing on wasm and that the results agree
// (tolerance in compare.ts). The compositions mirror how a layer would call tfjs; the layers
// themselves live in trainer/net.

import { describe, it } from 'node:test';

import * as tf from '@tensorflow/tfjs-core';

import { assertSameOnBackends, input } from './compare.js';

/** Gradients of sum(f(inputs) * seeded weights) with respect to every input, plus f's value. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, shapes: number[][], seed: number): tf.Tensor[] {
  const xs = shapes.map((shape, i) => input(shape, seed + i));
  const out = f(...xs);
  const weights = input(out.shape, seed + 100);
  const { value, grads } = tf.valueAndGrads((...vs: tf.Tensor[]) => tf.sum(tf.mul(f(...vs), weights)))(xs);
  return [out, value, ...grads];
}

function explicitPad(top: number, bottom: number, left: number, right: number) {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ] as [[number, number], [number, number], [number, number], [number, number]];
}

/** Caffe's grouped convolution: split channels into groups, convolve each, concatenate. */
function groupedConv(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, groups: number, stride: number, pad: number) {
  const xs = tf.split(x, groups, 3);
  const ws = tf.split(w, groups, 3);
  const ys = xs.map((xg, g) => tf.conv2d(xg as tf.Tensor4D, ws[g] as tf.Tensor4D, stride, pad));
  return tf.add(tf.concat(ys, 3), b);
}

const layers: { name: string; shapes: number[][]; f: (...xs: tf.Tensor[]) => tf.Tensor }[] = [
  {
    name: 'Convolution, group 2, stride 2, pad 1, with bias',
    shapes: [[2, 9, 9, 4], [3, 3, 2, 6], [6]],
    f: (x, w, b) => groupedConv(x!, w!, b!, 2, 2, 1),
  },
  {
    name: 'Convolution, group 1, 5x5 pad 2',
    shapes: [
      [2, 7, 7, 3],
      [5, 5, 3, 4],
    ],
    f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 2),
  },
  {
    // tfjs drops dimRoundingMode in the pooling gradients, so round-up is written as explicit padding on
    // the far side: 7x6, kernel 3, stride 2, pad 1 rounds up to 4x4, which needs one more column.
    name: "Pooling MAX, Caffe's pad 1 and round-up as explicit padding",
    shapes: [[2, 7, 6, 3]],
    f: (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, explicitPad(1, 1, 1, 2)),
  },
  {
    name: 'Pooling AVE, kernel 3 stride 2',
    shapes: [[2, 7, 7, 3]],
    f: (x) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'valid'),
  },
  {
    // Caffe divides by the window clipped to the padded image: zero-pad, average full windows, rescale.
    name: "Pooling AVE, Caffe's pad 1 and round-up as zero padding and a divisor mask",
    shapes: [[2, 6, 7, 3]],
    f: (x) => {
      // 6x7, kernel 3, stride 2, pad 1 rounds up to 4x4; the last row of windows covers image row 5 and
      // one pad row (Caffe's divisor 6, not 9), and needs one more zero row to exist at all.
      const padded = tf.pad(x!, [
        [0, 0],
        [1, 2],
        [1, 1],
        [0, 0],
      ]);
      const divisorFix = tf.tensor4d([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.5, 1.5, 1.5, 1.5], [1, 4, 4, 1]);
      return tf.mul(tf.avgPool(padded as tf.Tensor4D, 3, 2, 'valid'), divisorFix);
    },
  },
  {
    name: 'Pooling MAX, same padding',
    shapes: [[2, 6, 7, 3]],
    f: (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'),
  },
  {
    name: 'Pooling AVE, same padding',
    shapes: [[2, 6, 7, 3]],
    f: (x) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'same'),
  },
  {
    name: 'LRN ACROSS_CHANNELS (local_size 5)',
    shapes: [[2, 5, 5, 7]],
    f: (x) => tf.localResponseNormalization(x as tf.Tensor4D, 2, 1, 1e-2 / 5, 0.75),
  },
  {
    name: 'LRN WITHIN_CHANNEL (local_size 3) as x / (1 + alpha * avg(x²))^beta',
    shapes: [[2, 6, 6, 3]],
    f: (x) =>
      tf.div(
        x!,
        tf.pow(tf.add(1, tf.mul(0.1, tf.avgPool(tf.square(x!) as tf.Tensor4D, 3, 1, 'same'))), 0.75),
      ),
  },
  { name: 'ReLU', shapes: [[4, 6]], f: (x) => tf.relu(x!) },
  { name: 'ReLU with negative_slope 0.1', shapes: [[4, 6]], f: (x) => tf.leakyRelu(x!, 0.1) },
  { name: 'Sigmoid', shapes: [[4, 6]], f: (x) => tf.sigmoid(x!) },
  { name: 'TanH', shapes: [[4, 6]], f: (x) => tf.tanh(x!) },
  { name: 'Dropout, ratio 0.5, seeded mask', shapes: [[4, 16]], f: (x) => tf.dropout(x!, 0.5, undefined, 7) },
  {
    name: "InnerProduct with Caffe's [out, in] weights and bias",
    shapes: [[3, 10], [4, 10], [4]],
    f: (x, w, b) => tf.add(tf.matMul(x!, w!, false, true), b!),
  },
  { name: 'Softmax', shapes: [[3, 5]], f: (x) => tf.softmax(x!) },
  {
    name: 'SoftmaxWithLoss (log-softmax, label gather, mean)',
    shapes: [[4, 5]],
    f: (x) => {
      const labels = tf.tensor1d([0, 3, 4, 1], 'int32');
      const picked = tf.gather(
        tf.reshape(tf.logSoftmax(x!), [-1]),
        tf.add(tf.mul(tf.range(0, 4, 1, 'int32'), tf.scalar(5, 'int32')), labels),
      );
      return tf.neg(tf.mean(picked));
    },
  },
  {
    name: 'Concat on channels',
    shapes: [
      [2, 3, 3, 2],
      [2, 3, 3, 4],
    ],
    f: (a, b) => tf.concat([a!, b!], 3),
  },
  {
    name: 'Eltwise SUM with coefficients',
    shapes: [
      [3, 4],
      [3, 4],
    ],
    f: (a, b) => tf.add(tf.mul(a!, 0.5), tf.mul(b!, -2)),
  },
  {
    name: 'Eltwise PROD',
    shapes: [
      [3, 4],
      [3, 4],
    ],
    f: (a, b) => tf.mul(a!, b!),
  },
  {
    name: 'Eltwise MAX',
    shapes: [
      [3, 4],
      [3, 4],
    ],
    f: (a, b) => tf.maximum(a!, b!),
  },
  { name: 'Flatten', shapes: [[2, 3, 3, 2]], f: (x) => tf.reshape(x!, [2, -1]) },
  {
    name: 'BatchNorm (batch statistics) then Scale with bias',
    shapes: [[4, 3, 3, 5], [5], [5]],
    f: (x, gamma, beta) => {
      const { mean, variance } = tf.moments(x!, [0, 1, 2]);
      const normalized = tf.mul(tf.sub(x!, mean), tf.rsqrt(tf.add(variance, 1e-5)));
      return tf.add(tf.mul(normalized, gamma!), beta!);
    },
  },
];

describe('Caffe layers train on wasm exactly as on the pure-JS backend', () => {
  layers.forEach((layer, i) => {
    it(layer.name, async () => {
      await assertSameOnBackends(() => valueAndGrads(layer.f, layer.shapes, 1000 * (i + 1)), layer.name);
    });
  });

  it('Accuracy top-k (k = 2) agrees', async () => {
    await assertSameOnBackends(() => {
      const scores = input([6, 5], 31);
      const labels = tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32');
      const { indices } = tf.topk(scores, 2);
      const hit = tf.any(tf.equal(indices, tf.expandDims(labels, 1)), 1);
      return [tf.cast(indices, 'float32'), tf.mean(tf.cast(hit, 'float32'))];
    }, 'accuracy');
  });

  it('fillers draw the same seeded numbers (uniform, gaussian, truncated gaussian)', async () => {
    await assertSameOnBackends(
      () => [
        tf.randomUniform([50], -0.1, 0.1, 'float32', 3),
        tf.randomNormal([50], 0, 0.01, 'float32', 4),
        tf.truncatedNormal([50], 0, 0.01, 'float32', 5),
      ],
      'fillers',
    );
  });
});
