// Forward parity with OpenCV's cv2.dnn, an independent reading of Caffe's layers: a small deploy net with
// every layer type of ours that cv2.dnn loads, random weights saved by our own .caffemodel writer, the
// same random input, and every layer's output compared.
//
// Covered: Input, Convolution (group, pad, stride, dilation, no bias), ReLU (plain and negative_slope),
// Split, Silence (loads; it has no output to compare), Pooling (MAX and AVE, Caffe's round-up, the
// padded AVE divisor and the last-window rule), LRN (ACROSS_CHANNELS with k, WITHIN_CHANNEL), Sigmoid,
// TanH, Eltwise (SUM with coeff, PROD, MAX), Concat, BatchNorm (stored statistics with a scale factor),
// Scale (with bias), Flatten, Dropout (TEST phase), InnerProduct, Softmax.
// LRN's k stays at its default 1: cv2.dnn 4.6's Caffe importer ignores lrn_param.k (it computes with k = 1
// whatever the file says), so k is covered by the LRN unit test alone.
// Not covered, because cv2.dnn 4.6 cannot create them: Accuracy, SoftmaxWithLoss, DummyData, and the
// data layers (Data, ImageData, MemoryData).
import '@tensorflow/tfjs-backend-cpu';

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Rng } from '../../../trainer/rng.js';
import {
  assertMatchesCv2,
  compareWithCv2,
  needsCv2,
  PARITY_BACKENDS,
  randomizeWeights,
  randomValues,
  testNet,
  useBackend,
} from './support.js';

const NET = `
name: "every_layer"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 4 dim: 11 dim: 11 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 6 kernel_size: 3 stride: 2 pad: 1 group: 2 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" relu_param { negative_slope: 0.1 } }
layer { name: "split1" type: "Split" bottom: "conv1" top: "a" top: "b" top: "c" }
layer { name: "silence" type: "Silence" bottom: "c" }
# 6x6 in, kernel 3, stride 2: Caffe rounds up to 3x3 (TensorFlow's VALID would give 2x2).
layer { name: "pool_max" type: "Pooling" bottom: "a" top: "pool_max"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "pool_ave" type: "Pooling" bottom: "b" top: "pool_ave"
  pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "lrn_across" type: "LRN" bottom: "pool_max" top: "lrn_across"
  lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 } }
layer { name: "lrn_within" type: "LRN" bottom: "pool_ave" top: "lrn_within"
  lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 norm_region: WITHIN_CHANNEL } }
layer { name: "conv2" type: "Convolution" bottom: "lrn_within" top: "conv2"
  convolution_param { num_output: 6 kernel_size: 2 dilation: 3 pad: 1 bias_term: false } }
layer { name: "sigmoid" type: "Sigmoid" bottom: "conv2" top: "sigmoid" }
layer { name: "tanh" type: "TanH" bottom: "lrn_across" top: "tanh" }
layer { name: "sum" type: "Eltwise" bottom: "sigmoid" bottom: "tanh" top: "sum"
  eltwise_param { operation: SUM coeff: 0.5 coeff: -1.5 } }
layer { name: "prod" type: "Eltwise" bottom: "sigmoid" bottom: "tanh" top: "prod" eltwise_param { operation: PROD } }
layer { name: "max" type: "Eltwise" bottom: "sigmoid" bottom: "tanh" top: "max" eltwise_param { operation: MAX } }
layer { name: "concat" type: "Concat" bottom: "sum" bottom: "prod" bottom: "max" top: "concat" }
layer { name: "bn" type: "BatchNorm" bottom: "concat" top: "bn" batch_norm_param { use_global_stats: true } }
layer { name: "scale" type: "Scale" bottom: "bn" top: "scale" scale_param { bias_term: true } }
# 3x3 in, kernel 2, stride 2, pad 1: rounding up gives 3, but the last window would start in the right
# padding, so Caffe drops it: 2x2.
layer { name: "pool_last" type: "Pooling" bottom: "scale" top: "pool_last"
  pooling_param { pool: AVE kernel_size: 2 stride: 2 pad: 1 } }
layer { name: "flatten" type: "Flatten" bottom: "pool_last" top: "flatten" }
layer { name: "drop" type: "Dropout" bottom: "flatten" top: "flatten" dropout_param { dropout_ratio: 0.3 } }
layer { name: "ip1" type: "InnerProduct" bottom: "flatten" top: "ip1" inner_product_param { num_output: 10 } }
layer { name: "relu2" type: "ReLU" bottom: "ip1" top: "ip1" }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" inner_product_param { num_output: 7 } }
layer { name: "prob" type: "Softmax" bottom: "ip2" top: "prob" }
`;

/** Every layer with an output; Split is compared through its first top. */
const COMPARED = [
  'conv1',
  'relu1',
  'split1',
  'pool_max',
  'pool_ave',
  'lrn_across',
  'lrn_within',
  'conv2',
  'sigmoid',
  'tanh',
  'sum',
  'prod',
  'max',
  'concat',
  'bn',
  'scale',
  'pool_last',
  'flatten',
  'drop',
  'ip1',
  'relu2',
  'ip2',
  'prob',
];

describe('forward parity with cv2.dnn', () => {
  for (const backend of PARITY_BACKENDS) {
    it(`matches on a net of every layer type cv2.dnn loads, layer by layer on ${backend.name}`, {
      skip: backend.skip,
    }, async (t) => {
      if (!needsCv2(t)) return;
      await useBackend(backend.name);
      const net = testNet(NET, 'every_layer.prototxt');
      try {
        const rng = new Rng(2026);
        randomizeWeights(net, rng);
        const shape = [2, 4, 11, 11];
        const input = { shape, values: randomValues(2 * 4 * 11 * 11, rng, -2, 2) };
        const comparisons = await compareWithCv2(net, NET, 'data', input, COMPARED);
        assertMatchesCv2(t, comparisons);
        // The hand-worked shapes: Caffe's round-up, and the dropped last window.
        const shapeOf = (name: string) => comparisons.find((c) => c.layer === name)!.shape;
        assert.deepEqual(shapeOf('pool_max'), [2, 6, 3, 3]);
        assert.deepEqual(shapeOf('pool_last'), [2, 18, 2, 2]);
      } finally {
        net.dispose();
      }
    });
  }
});
