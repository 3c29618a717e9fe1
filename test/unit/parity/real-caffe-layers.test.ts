// Layer parity with real BVLC Caffe: forward and backward of each layer on the same bottoms, parameters and
// top diffs (harness: caffe-layers.ts, caffe_layers.py). Tolerance: |ours - Caffe's| <= 1e-5 × max(1, |Caffe's|)
// unless a case states another and why. The first cases are layers that already had other checks, to prove
// the harness on known-good layers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { caffeReference, caffeReferenceMissing } from '../../support/caffe-reference.js';
import {
  type Compared,
  compareWithCaffe,
  distinct,
  integers,
  type LayerCase,
  uniform,
} from './caffe-layers.js';

/** A one-bottom, one-top case "x" → "y". */
function unary(name: string, layer: string, x = uniform([2, 3, 4], 11), backward = true): LayerCase {
  return {
    name,
    layer: `layer { name: "t" type: ${layer} bottom: "x" top: "y" }`,
    inputs: { x },
    tops: ['y'],
    bottoms: backward ? ['x'] : [],
  };
}

const uniformFiller = 'filler { type: "uniform" min: -1 max: 1 }';

const known: LayerCase[] = [
  {
    name: 'Convolution',
    layer: `layer { name: "t" type: "Convolution" bottom: "x" top: "y" convolution_param { num_output: 3 kernel_size: 3 stride: 2 pad: 1 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "uniform" min: -1 max: 1 } } }`,
    inputs: { x: uniform([2, 2, 5, 5], 1) },
    tops: ['y'],
    bottoms: ['x'],
  },
  {
    name: 'Pooling MAX',
    layer: `layer { name: "t" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }`,
    inputs: { x: distinct([2, 2, 6, 6], 2) },
    tops: ['y'],
    bottoms: ['x'],
  },
  {
    name: 'Pooling AVE',
    layer: `layer { name: "t" type: "Pooling" bottom: "x" top: "y" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }`,
    inputs: { x: uniform([2, 2, 6, 6], 3) },
    tops: ['y'],
    bottoms: ['x'],
  },
  {
    name: 'LRN',
    layer: `layer { name: "t" type: "LRN" bottom: "x" top: "y" lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 } }`,
    inputs: { x: uniform([2, 5, 3, 3], 4) },
    tops: ['y'],
    bottoms: ['x'],
  },
  {
    name: 'InnerProduct',
    layer: `layer { name: "t" type: "InnerProduct" bottom: "x" top: "y" inner_product_param { num_output: 4 weight_filler { type: "xavier" } bias_filler { type: "gaussian" std: 0.5 } } }`,
    inputs: { x: uniform([3, 2, 2, 2], 5) },
    tops: ['y'],
    bottoms: ['x'],
  },
  {
    name: 'Softmax',
    layer: `layer { name: "t" type: "Softmax" bottom: "x" top: "y" }`,
    inputs: { x: uniform([2, 4, 3], 6, -3, 3) },
    tops: ['y'],
    bottoms: ['x'],
  },
  {
    name: 'SoftmaxWithLoss',
    layer: `layer { name: "t" type: "SoftmaxWithLoss" bottom: "x" bottom: "label" top: "loss" }`,
    inputs: { x: uniform([4, 5], 7, -3, 3), label: integers([4], 8, 5) },
    tops: ['loss'],
    bottoms: ['x'],
  },
];

/** The other layers that ran before issue 14: checked against real Caffe the same way. */
const existing: LayerCase[] = [
  unary('ReLU', '"ReLU"', distinct([2, 3, 4], 60)),
  unary('ReLU leaky', '"ReLU" relu_param { negative_slope: 0.1 }', distinct([2, 3, 4], 61)),
  unary('Sigmoid', '"Sigmoid"', uniform([2, 3, 4], 62, -4, 4)),
  unary('TanH', '"TanH"', uniform([2, 3, 4], 63, -3, 3)),
  unary('Flatten', '"Flatten" flatten_param { axis: 1 end_axis: 2 }', uniform([2, 3, 4, 2], 64)),
  unary(
    'Scale',
    `"Scale" scale_param { ${uniformFiller} bias_term: true bias_filler { type: "uniform" min: -1 max: 1 } }`,
    uniform([2, 3, 2, 2], 65),
  ),
  {
    name: 'Scale bottom 1',
    layer: 'layer { name: "t" type: "Scale" bottom: "x" bottom: "s" top: "y" scale_param { axis: 1 } }',
    inputs: { x: uniform([2, 3, 4, 2], 66), s: uniform([3, 4], 67) },
    tops: ['y'],
    bottoms: ['x', 's'],
  },
  unary(
    'BatchNorm',
    '"BatchNorm" batch_norm_param { use_global_stats: false }',
    uniform([4, 3, 2, 2], 68, -2, 3),
  ),
  {
    name: 'Concat',
    layer: 'layer { name: "t" type: "Concat" bottom: "a" bottom: "b" top: "y" concat_param { axis: 1 } }',
    inputs: { a: uniform([2, 3, 2], 69), b: uniform([2, 2, 2], 70) },
    tops: ['y'],
    bottoms: ['a', 'b'],
  },
  ...['SUM coeff: 0.5 coeff: -2', 'PROD', 'MAX'].map((operation, i) => ({
    name: `Eltwise ${operation.split(' ')[0]}`,
    layer: `layer { name: "t" type: "Eltwise" bottom: "a" bottom: "b" top: "y" eltwise_param { operation: ${operation} } }`,
    inputs: { a: distinct([2, 3, 2], 71 + i), b: distinct([2, 3, 2], 81 + i) },
    tops: ['y'],
    bottoms: ['a', 'b'],
  })),
  {
    name: 'Slice',
    layer:
      'layer { name: "t" type: "Slice" bottom: "x" top: "a" top: "b" top: "c" slice_param { axis: 1 slice_point: 1 slice_point: 3 } }',
    inputs: { x: uniform([2, 5, 2], 74) },
    tops: ['a', 'b', 'c'],
    bottoms: ['x'],
  },
  {
    name: 'Split',
    layer: 'layer { name: "t" type: "Split" bottom: "x" top: "a" top: "b" }',
    inputs: { x: uniform([2, 3], 75) },
    tops: ['a', 'b'],
    bottoms: ['x'],
  },
  {
    name: 'SigmoidCrossEntropyLoss',
    layer: 'layer { name: "t" type: "SigmoidCrossEntropyLoss" bottom: "x" bottom: "target" top: "loss" }',
    inputs: { x: uniform([4, 3], 76, -3, 3), target: integers([4, 3], 77, 2) },
    tops: ['loss'],
    bottoms: ['x'],
  },
  {
    name: 'Accuracy top 2',
    layer:
      'layer { name: "t" type: "Accuracy" bottom: "x" bottom: "label" top: "y" accuracy_param { top_k: 2 } }',
    inputs: { x: distinct([6, 4], 78), label: integers([6], 79, 4) },
    tops: ['y'],
    bottoms: [],
  },
];

const added: LayerCase[] = [
  unary('AbsVal', '"AbsVal"', distinct([2, 3, 4], 12)),
  unary('BNLL', '"BNLL"', uniform([2, 3, 4], 13, -4, 4)),
  unary('Clip', '"Clip" clip_param { min: -0.3 max: 0.4 }', distinct([2, 3, 4], 14)),
  unary('ELU', '"ELU" elu_param { alpha: 0.7 }', distinct([2, 3, 4], 15)),
  unary('Exp', '"Exp"'),
  unary('Exp base 2', '"Exp" exp_param { base: 2 scale: 0.5 shift: 1 }'),
  unary('Log', '"Log"', uniform([2, 3, 4], 16, 0.1, 2)),
  unary('Log base 10', '"Log" log_param { base: 10 scale: 2 shift: 3 }'),
  unary('Power 2', '"Power" power_param { power: 2 scale: 0.5 shift: 1 }'),
  unary('Power 0.5', '"Power" power_param { power: 0.5 shift: 2 }'),
  unary('Power 3', '"Power" power_param { power: 3 scale: -1.5 }'),
  unary('Swish', '"Swish" swish_param { beta: 1.5 }', uniform([2, 3, 4], 17, -3, 3)),
  unary('Threshold', '"Threshold" threshold_param { threshold: 0.2 }', distinct([2, 3, 4], 18), false),
  unary('PReLU', `"PReLU" prelu_param { ${uniformFiller} }`, distinct([2, 3, 2, 2], 19)),
  unary('PReLU shared', '"PReLU" prelu_param { channel_shared: true }', distinct([2, 3, 2], 20)),
  unary('Bias', `"Bias" bias_param { ${uniformFiller} }`, uniform([2, 3, 2, 2], 21)),
  unary(
    'Bias axis 2',
    `"Bias" bias_param { axis: 2 num_axes: -1 ${uniformFiller} }`,
    uniform([2, 3, 2, 2], 21),
  ),
  {
    name: 'Bias bottom 1',
    layer: 'layer { name: "t" type: "Bias" bottom: "x" bottom: "b" top: "y" bias_param { axis: 1 } }',
    inputs: { x: uniform([2, 3, 4, 2], 22), b: uniform([3, 4], 23) },
    tops: ['y'],
    bottoms: ['x', 'b'],
  },
  unary('Reshape', '"Reshape" reshape_param { shape { dim: 0 dim: -1 } }', uniform([2, 3, 4], 24)),
  unary('Reshape axis', '"Reshape" reshape_param { axis: 1 num_axes: 1 shape { dim: 1 dim: 3 dim: 1 } }'),
  unary('Tile', '"Tile" tile_param { axis: 1 tiles: 3 }'),
  unary('Reduction SUM', '"Reduction"'),
  unary(
    'Reduction ASUM',
    '"Reduction" reduction_param { operation: ASUM axis: 1 coeff: 2 }',
    distinct([2, 3, 4], 25),
  ),
  unary('Reduction SUMSQ', '"Reduction" reduction_param { operation: SUMSQ axis: -1 }'),
  unary('Reduction MEAN', '"Reduction" reduction_param { operation: MEAN axis: 1 coeff: -0.5 }'),
  unary('ArgMax', '"ArgMax" argmax_param { top_k: 2 out_max_val: true }', distinct([3, 2, 4], 26), false),
  unary('ArgMax axis', '"ArgMax" argmax_param { top_k: 2 axis: 1 }', distinct([2, 3, 4], 27), false),
  unary('MVN', '"MVN"', uniform([2, 3, 4, 5], 28, -2, 3)),
  unary('MVN across channels', '"MVN" mvn_param { across_channels: true }', uniform([2, 3, 4, 5], 29)),
  unary('MVN mean only', '"MVN" mvn_param { normalize_variance: false }', uniform([2, 3, 4, 5], 30)),
  {
    name: 'Crop',
    layer:
      'layer { name: "t" type: "Crop" bottom: "x" bottom: "like" top: "y" crop_param { axis: 2 offset: 1 offset: 2 } }',
    inputs: { x: uniform([2, 3, 5, 6], 31), like: uniform([1, 1, 3, 3], 32) },
    tops: ['y'],
    bottoms: ['x'],
  },
  {
    name: 'EuclideanLoss',
    layer: 'layer { name: "t" type: "EuclideanLoss" bottom: "a" bottom: "b" top: "loss" }',
    inputs: { a: uniform([4, 3], 33), b: uniform([4, 3], 34) },
    tops: ['loss'],
    bottoms: ['a', 'b'],
  },
  ...['L1', 'L2'].map((norm) => ({
    name: `HingeLoss ${norm}`,
    layer: `layer { name: "t" type: "HingeLoss" bottom: "x" bottom: "label" top: "loss" hinge_loss_param { norm: ${norm} } }`,
    inputs: { x: distinct([4, 5], 35), label: integers([4], 36, 5) },
    tops: ['loss'],
    bottoms: ['x'],
  })),
  ...['false', 'true'].map((legacy) => ({
    name: `ContrastiveLoss legacy ${legacy}`,
    layer: `layer { name: "t" type: "ContrastiveLoss" bottom: "a" bottom: "b" bottom: "same" top: "loss" contrastive_loss_param { margin: 1.5 legacy_version: ${legacy} } }`,
    inputs: { a: uniform([6, 3, 1, 1], 37), b: uniform([6, 3, 1, 1], 38), same: integers([6], 39, 2) },
    tops: ['loss'],
    bottoms: ['a', 'b'],
  })),
  {
    name: 'MultinomialLogisticLoss',
    layer: 'layer { name: "t" type: "MultinomialLogisticLoss" bottom: "p" bottom: "label" top: "loss" }',
    inputs: { p: uniform([4, 5], 40, 0.05, 1), label: integers([4], 41, 5) },
    tops: ['loss'],
    bottoms: ['p'],
  },
  {
    name: 'InfogainLoss',
    layer: 'layer { name: "t" type: "InfogainLoss" bottom: "x" bottom: "label" bottom: "H" top: "loss" }',
    inputs: {
      x: uniform([4, 5, 2], 42, -2, 2),
      label: integers([4, 2], 43, 5),
      H: uniform([5, 5], 44, 0, 1),
    },
    tops: ['loss'],
    bottoms: ['x'],
    caffeLearned: ['x'],
  },
  {
    name: 'Embed',
    layer:
      'layer { name: "t" type: "Embed" bottom: "x" top: "y" embed_param { num_output: 3 input_dim: 5 weight_filler { type: "uniform" min: -1 max: 1 } bias_filler { type: "uniform" min: -1 max: 1 } } }',
    inputs: { x: integers([2, 4], 45, 5) },
    tops: ['y'],
    bottoms: [],
  },
  {
    name: 'BatchReindex',
    layer: 'layer { name: "t" type: "BatchReindex" bottom: "x" bottom: "order" top: "y" }',
    inputs: { x: uniform([4, 3], 46), order: integers([6], 47, 4) },
    tops: ['y'],
    bottoms: ['x'],
    caffeLearned: ['x'],
  },
  {
    name: 'Deconvolution',
    layer:
      'layer { name: "t" type: "Deconvolution" bottom: "x" top: "y" convolution_param { num_output: 3 kernel_size: 3 stride: 2 pad: 1 weight_filler { type: "gaussian" std: 0.3 } bias_filler { type: "uniform" min: -1 max: 1 } } }',
    inputs: { x: uniform([2, 2, 3, 4], 48) },
    tops: ['y'],
    bottoms: ['x'],
  },
  {
    name: 'Deconvolution group dilation',
    layer:
      'layer { name: "t" type: "Deconvolution" bottom: "x" top: "y" convolution_param { num_output: 4 group: 2 kernel_h: 2 kernel_w: 3 stride_h: 1 stride_w: 3 pad_w: 3 dilation: 2 weight_filler { type: "uniform" min: -1 max: 1 } bias_term: false } }',
    inputs: { x: uniform([1, 4, 3, 3], 49) },
    tops: ['y'],
    bottoms: ['x'],
  },
  unary('SPP MAX', '"SPP" spp_param { pyramid_height: 3 pool: MAX }', distinct([2, 2, 8, 8], 50)),
  unary('SPP AVE', '"SPP" spp_param { pyramid_height: 3 pool: AVE }', uniform([2, 2, 6, 7], 51)),
  unary('SPP one level', '"SPP" spp_param { pyramid_height: 1 }', distinct([1, 3, 5, 4], 52)),
  unary(
    'Im2col',
    '"Im2col" convolution_param { kernel_size: 3 stride: 2 pad: 1 }',
    uniform([2, 2, 5, 6], 53),
  ),
  unary(
    'Im2col dilation',
    '"Im2col" convolution_param { kernel_h: 2 kernel_w: 3 dilation: 2 stride_h: 1 stride_w: 2 }',
    uniform([1, 3, 6, 7], 54),
  ),
  {
    name: 'LSTMUnit',
    layer:
      'layer { name: "t" type: "LSTMUnit" bottom: "c" bottom: "gates" bottom: "cont" top: "c_next" top: "h" }',
    inputs: {
      c: uniform([1, 3, 2], 55),
      gates: uniform([1, 3, 8], 56, -2, 2),
      cont: { shape: [1, 3], values: [1, 0, 1] },
    },
    tops: ['c_next', 'h'],
    bottoms: ['c', 'gates'],
  },
  ...['LSTM', 'RNN'].map((type) => ({
    name: type,
    layer: `layer { name: "t" type: "${type}" bottom: "x" bottom: "cont" top: "y" recurrent_param { num_output: 3 weight_filler { type: "uniform" min: -0.5 max: 0.5 } bias_filler { type: "uniform" min: -0.5 max: 0.5 } } }`,
    inputs: { x: uniform([4, 2, 3], 57), cont: { shape: [4, 2], values: [0, 0, 1, 1, 1, 0, 1, 1] } },
    tops: ['y'],
    bottoms: ['x'],
  })),
  ...['LSTM', 'RNN'].map((type) => ({
    name: `${type} static input`,
    layer: `layer { name: "t" type: "${type}" bottom: "x" bottom: "cont" bottom: "s" top: "y" recurrent_param { num_output: 2 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "constant" value: 0.1 } } }`,
    inputs: {
      x: uniform([3, 2, 2, 2], 58),
      cont: { shape: [3, 2], values: [0, 0, 1, 1, 1, 1] },
      s: uniform([2, 3], 59),
    },
    tops: ['y'],
    bottoms: ['x', 's'],
  })),
  {
    name: 'Parameter',
    layer: 'layer { name: "t" type: "Parameter" top: "y" parameter_param { shape { dim: 2 dim: 3 } } }',
    inputs: {},
    tops: ['y'],
    bottoms: [],
  },
];

function report(results: Compared[]): void {
  const bad = results.filter((r) => r.failures.length > 0);
  assert.deepEqual(
    bad.map((r) => `${r.name}: ${r.failures.join('; ')}`),
    [],
    `${bad.length} of ${results.length} cases differ from real Caffe`,
  );
  for (const r of results) assert.ok(r.compared > 0, `${r.name}: nothing compared`);
}

describe('layers against real Caffe (forward and backward)', { skip: caffeReferenceMissing() }, () => {
  it(`agree on ${known.length} layers that were already checked (the harness works)`, () => {
    report(compareWithCaffe(caffeReference()!, known));
  });

  it(`agree on ${existing.length} cases of the other layers that ran before`, () => {
    report(compareWithCaffe(caffeReference()!, existing));
  });

  it(`agree on ${added.length} cases of the layers added for issue 14`, () => {
    report(compareWithCaffe(caffeReference()!, added));
  });
});
