// `caffe time`'s per-layer timing: which layers' backward runs, checked with a clock that ticks once per read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { timeLayers, timingPlan } from '../../../trainer/net/layer-timing.js';
import { feedTiny, netFrom, TINY_NET } from './support.js';

/** A clock that advances 1 ms each time it is read: a timed span is > 0 exactly when work ran inside it. */
function tickingClock(): () => number {
  let t = 0;
  return () => ++t;
}

/** TINY_NET without its loss layer: a deploy net. */
const DEPLOY_NET = TINY_NET.replace(/layer \{ name: "loss".*?\}\n/s, '');

describe('caffe time layer timing', () => {
  it('runs the backward of every layer with parameters on a deploy net (no loss), as Caffe does', () => {
    assert.ok(!DEPLOY_NET.includes('SoftmaxWithLoss'));
    const net = netFrom(DEPLOY_NET);
    try {
      feedTiny(net);
      const plan = timingPlan(net);
      // Net::Init marks nothing as needing backward without a loss ...
      assert.ok(net.backwardPlan().layerNeedsBackward.every((need) => !need));
      const times = timeLayers(net, plan, tickingClock());
      const byName = Object.fromEntries(net.layers.map((layer, l) => [layer.name, times.backward[l]]));
      // ... yet Caffe's benchmark calls every layer's Backward, which computes the parameter gradients.
      assert.ok(byName.conv! > 0, JSON.stringify(byName));
      assert.ok(byName.ip! > 0, JSON.stringify(byName));
      // No bottom needs a gradient and ReLU, Pooling and Input have no parameters: nothing to compute.
      assert.equal(byName.input, 0);
      assert.equal(byName.relu, 0);
      assert.equal(byName.pool, 0);
    } finally {
      net.dispose();
    }
  });

  it('leaves out a blob with lr_mult 0 and still backpropagates through layers under the loss', () => {
    const frozen = TINY_NET.replace(
      'layer { name: "ip" type: "InnerProduct" bottom: "pool" top: "ip"',
      'layer { name: "ip" type: "InnerProduct" bottom: "pool" top: "ip" param { lr_mult: 0 } param { lr_mult: 0 }',
    );
    assert.notEqual(frozen, TINY_NET);
    const net = netFrom(frozen);
    try {
      feedTiny(net);
      const plan = timingPlan(net);
      const ip = net.layers.findIndex((layer) => layer.name === 'ip');
      assert.deepEqual(plan.paramNeedsGradient[ip], [false, false]);
      const times = timeLayers(net, plan, tickingClock());
      // ip still passes the gradient down to conv's output, so its backward runs; relu and pool too.
      for (const name of ['conv', 'relu', 'pool', 'ip']) {
        const l = net.layers.findIndex((layer) => layer.name === name);
        assert.ok(times.backward[l]! > 0, name);
      }
    } finally {
      net.dispose();
    }
  });
});
