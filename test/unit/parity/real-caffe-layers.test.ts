// Layer parity with real BVLC Caffe: forward and backward of each layer on the same bottoms, parameters and
// top diffs (harness: caffe-layers.ts, caffe_layers.py). Tolerance: |ours - Caffe's| <= 1e-5 × max(1, |Caffe's|)
// unless a case states another and why. The first cases are layers that already had other checks, to prove
// the harness on known-good layers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { caffeReference, caffeReferenceMissing } from '../../support/caffe-reference.js';
import { type Compared, compareWithCaffe, distinct, integers, type LayerCase, uniform } from './caffe-layers.js';

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

export const added: LayerCase[] = [];

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
});
