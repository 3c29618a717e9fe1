// The trainer bench's arithmetic count (hack/bench/net-flops.ts) on CaffeNet's train_val, against the
// multiply-adds written out from CaffeNet's layer table: output size times filter size per layer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { forwardBackwardFlops } from '../../../hack/bench/net-flops.js';
import { buildNetSpec } from '../../../trainer/net/spec/index.js';
import { Phase, parseNetPrototxt } from '../../../trainer/proto/index.js';
import { modelFile, readModel } from '../proto/support.js';

describe('the forward-backward arithmetic of a net', () => {
  it("counts CaffeNet's convolutions and inner products, with no input gradient into the data", () => {
    const file = modelFile('bvlc_reference_caffenet/train_val.prototxt');
    const param = parseNetPrototxt(readModel('bvlc_reference_caffenet/train_val.prototxt'), file);
    const spec = buildNetSpec(param, { phase: Phase.TRAIN, fileName: file });
    const batch = 256;
    // Per image: output elements x (input channels per group x kernel area), and in x out for fc.
    const conv1 = 96 * 55 * 55 * (3 * 11 * 11);
    const rest = [
      256 * 27 * 27 * (48 * 5 * 5), // conv2, 2 groups
      384 * 13 * 13 * (256 * 3 * 3), // conv3
      384 * 13 * 13 * (192 * 3 * 3), // conv4, 2 groups
      256 * 13 * 13 * (192 * 3 * 3), // conv5, 2 groups
      9216 * 4096, // fc6
      4096 * 4096, // fc7
      4096 * 1000, // fc8
    ].reduce((a, b) => a + b, 0);
    const { forward, backward } = forwardBackwardFlops(spec);
    assert.equal(forward, 2 * batch * (conv1 + rest));
    // conv1's input is the data: its weight gradient only; every other layer also sends one down.
    assert.equal(backward, 2 * batch * (conv1 + 2 * rest));
  });
});
