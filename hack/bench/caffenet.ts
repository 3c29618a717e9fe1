// A CaffeNet-shaped network written directly with tfjs ops, for benchmarks only: the same layer shapes,
// groups and parameter counts as bvlc_reference_caffenet
// (trainer/models/bvlc_reference_caffenet/train_val.prototxt), laid out the way tfjs wants (NHWC
// activations, HWIO conv filters, Caffe's [out, in] inner-product weights). The trainer's real Net, built
// from prototxt, replaces this once it exists.

import * as tf from '@tensorflow/tfjs-core';

type Conv = {
  name: string;
  kernel: number;
  stride: number;
  pad: number;
  group: number;
  out: number;
  std: number;
};

const convs: Conv[] = [
  { name: 'conv1', kernel: 11, stride: 4, pad: 0, group: 1, out: 96, std: 0.01 },
  { name: 'conv2', kernel: 5, stride: 1, pad: 2, group: 2, out: 256, std: 0.01 },
  { name: 'conv3', kernel: 3, stride: 1, pad: 1, group: 1, out: 384, std: 0.01 },
  { name: 'conv4', kernel: 3, stride: 1, pad: 1, group: 2, out: 384, std: 0.01 },
  { name: 'conv5', kernel: 3, stride: 1, pad: 1, group: 2, out: 256, std: 0.01 },
];
const fcs = [
  { name: 'fc6', in: 9216, out: 4096, std: 0.005 },
  { name: 'fc7', in: 4096, out: 4096, std: 0.005 },
  { name: 'fc8', in: 4096, out: 1000, std: 0.01 },
];
/** LRN local_size 5, alpha 1e-4, beta 0.75, k 1: tfjs takes the radius and alpha per element. */
const lrn = { radius: 2, bias: 1, alpha: 1e-4 / 5, beta: 0.75 };

export type CaffeNet = {
  params: tf.Variable[];
  /** Mean softmax loss of a batch [N, 227, 227, 3] against integer labels [N]. */
  loss(images: tf.Tensor4D, labels: tf.Tensor1D, training: boolean): tf.Scalar;
};

export function createCaffeNet(seed = 1): CaffeNet {
  const weights = new Map<string, tf.Variable>();
  let inChannels = 3;
  for (const c of convs) {
    const shape = [c.kernel, c.kernel, inChannels / c.group, c.out];
    weights.set(`${c.name}_w`, tf.variable(tf.randomNormal(shape, 0, c.std, 'float32', seed++)));
    weights.set(`${c.name}_b`, tf.variable(tf.zeros([c.out])));
    inChannels = c.out;
  }
  for (const f of fcs) {
    weights.set(`${f.name}_w`, tf.variable(tf.randomNormal([f.out, f.in], 0, f.std, 'float32', seed++)));
    weights.set(`${f.name}_b`, tf.variable(tf.zeros([f.out])));
  }
  const w = (name: string) => weights.get(name)!;

  const conv = (input: tf.Tensor4D, c: Conv): tf.Tensor4D => {
    const filter = w(`${c.name}_w`) as tf.Tensor4D;
    // tfjs-node's Conv2D takes only 'valid' and 'same'; explicit zero padding runs everywhere.
    const pads: [number, number][] = [
      [0, 0],
      [c.pad, c.pad],
      [c.pad, c.pad],
      [0, 0],
    ];
    const x = c.pad > 0 ? tf.pad(input, pads) : input;
    if (c.group === 1)
      return tf.relu(tf.add(tf.conv2d(x, filter, c.stride, 'valid'), w(`${c.name}_b`))) as tf.Tensor4D;
    const xs = tf.split(x, c.group, 3);
    const fs = tf.split(filter, c.group, 3);
    const ys = xs.map((xg, g) => tf.conv2d(xg as tf.Tensor4D, fs[g] as tf.Tensor4D, c.stride, 'valid'));
    return tf.relu(tf.add(tf.concat(ys, 3), w(`${c.name}_b`))) as tf.Tensor4D;
  };
  const pool = (x: tf.Tensor4D) => tf.maxPool(x, 3, 2, 'valid');
  const norm = (x: tf.Tensor4D) =>
    tf.localResponseNormalization(x, lrn.radius, lrn.bias, lrn.alpha, lrn.beta);
  const fc = (x: tf.Tensor2D, name: string) =>
    tf.add(tf.matMul(x, w(`${name}_w`), false, true), w(`${name}_b`)) as tf.Tensor2D;

  return {
    params: [...weights.values()],
    loss(images, labels, training) {
      const [c1, c2, c3, c4, c5] = convs as [Conv, Conv, Conv, Conv, Conv];
      let x = norm(pool(conv(images, c1)));
      x = norm(pool(conv(x, c2)));
      x = pool(conv(conv(conv(x, c3), c4), c5));
      let h = tf.reshape(x, [images.shape[0], -1]) as tf.Tensor2D;
      h = tf.relu(fc(h, 'fc6'));
      if (training) h = tf.dropout(h, 0.5) as tf.Tensor2D;
      h = tf.relu(fc(h, 'fc7'));
      if (training) h = tf.dropout(h, 0.5) as tf.Tensor2D;
      const logits = fc(h, 'fc8');
      const picked = tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, 1000));
      return tf.neg(tf.div(tf.sum(picked), images.shape[0])) as tf.Scalar;
    },
  };
}
