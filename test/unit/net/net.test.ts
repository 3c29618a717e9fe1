// The Net: forward against a direct computation, in-place layers, shared params, loss weights, outputs and
// the whole-net gradient against central finite differences.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import { feedTiny, netFrom, seededValues, TINY_NET, tf } from './support.js';

/** Direct computation of the tiny net's loss from its blobs and images, in float64 loops. */
function tinyLossByHand(
  images: Float32Array,
  labels: number[],
  conv: { w: Float32Array; b: Float32Array },
  ip: { w: Float32Array; b: Float32Array },
): number {
  let total = 0;
  for (let n = 0; n < 2; n++) {
    // Convolution 1→2 channels, 3x3, 6x6 → 4x4, then ReLU, then 2x2 max pool with stride 2 → 2x2.
    const pooled: number[] = [];
    for (let o = 0; o < 2; o++) {
      const map: number[][] = [];
      for (let y = 0; y < 4; y++) {
        map.push([]);
        for (let x = 0; x < 4; x++) {
          let sum = conv.b[o]!;
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++)
              sum += conv.w[o * 9 + ky * 3 + kx]! * images[n * 36 + (y + ky) * 6 + x + kx]!;
          map[y]!.push(Math.max(0, sum));
        }
      }
      for (let py = 0; py < 2; py++)
        for (let px = 0; px < 2; px++) {
          const cells = [0, 1].flatMap((dy) => [0, 1].map((dx) => map[py * 2 + dy]![px * 2 + dx]!));
          pooled.push(Math.max(...cells));
        }
    }
    const scores = [0, 1, 2].map((k) => pooled.reduce((s, v, j) => s + v * ip.w[k * 8 + j]!, ip.b[k]!));
    const top = Math.max(...scores);
    const logSum = Math.log(scores.reduce((s, v) => s + Math.exp(v - top), 0)) + top;
    total += logSum - scores[labels[n]!]!;
  }
  return total / 2; // normalization VALID: divided by the number of labels
}

const values = (t: tf.Tensor) => t.dataSync() as Float32Array;

describe('Net forward', () => {
  it('computes the tiny net loss as a direct computation does, through the in-place ReLU', async () => {
    const net = netFrom(TINY_NET, { seed: 3 });
    const images = feedTiny(net, [1, 2]);
    const [convW, convB] = net.layer('conv')!.blobs.map(values);
    const [ipW, ipB] = net.layer('ip')!.blobs.map(values);
    const result = await net.forward();
    const expected = tinyLossByHand(images, [1, 2], { w: convW!, b: convB! }, { w: ipW!, b: ipB! });
    assert.ok(Math.abs(result.loss - expected) < 1e-5, `loss ${result.loss}, by hand ${expected}`);
    assert.deepEqual(
      result.outputs.map((o) => [o.name, o.lossWeight, o.values.length]),
      [['loss', 1, 1]],
    );
    assert.ok(Math.abs(result.outputs[0]!.values[0]! - expected) < 1e-5);
    net.dispose();
  });

  it('lists learnable params in layer order with lr_mult and decay_mult defaulting to 1', () => {
    const net = netFrom(
      TINY_NET.replace(
        'name: "conv" type: "Convolution" bottom: "data" top: "conv"',
        'name: "conv" type: "Convolution" bottom: "data" top: "conv" param { lr_mult: 1 } param { lr_mult: 2 decay_mult: 0 }',
      ),
    );
    assert.deepEqual(
      net.learnableParams().map((p) => [p.name, p.variable.shape, p.lrMult, p.decayMult]),
      [
        ['conv/0', [2, 1, 3, 3], 1, 1],
        ['conv/1', [2], 2, 0],
        ['ip/0', [3, 8], 1, 1],
        ['ip/1', [3], 1, 1],
      ],
    );
    net.dispose();
  });
});

const SHARED_NET = `
name: "shared"
layer { name: "input" type: "Input" top: "a" top: "b" top: "label"
  input_param { shape { dim: 2 dim: 4 } shape { dim: 2 dim: 4 } shape { dim: 2 } } }
layer { name: "ip_a" type: "InnerProduct" bottom: "a" top: "ip_a" param { name: "w" } param { name: "bias" }
  inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.5 } } }
layer { name: "ip_b" type: "InnerProduct" bottom: "b" top: "ip_b" param { name: "w" lr_mult: 3 } param { name: "bias" }
  inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "gaussian" std: 0.5 } } }
layer { name: "tanh_a" type: "TanH" bottom: "ip_a" top: "ip_a" }
layer { name: "loss_a" type: "SoftmaxWithLoss" bottom: "ip_a" bottom: "label" top: "loss_a" loss_weight: 0.5 }
layer { name: "loss_b" type: "SoftmaxWithLoss" bottom: "ip_b" bottom: "label" top: "loss_b" loss_weight: 2 }
`;

function feedShared(net: ReturnType<typeof netFrom>): void {
  const input = net.layer('input') as unknown as { feed(values: tf.Tensor[]): void };
  input.feed([
    tf.tensor(seededValues(8, 11), [2, 4]),
    tf.tensor(seededValues(8, 12), [2, 4]),
    tf.tensor([0, 2], [2]),
  ]);
}

describe('Net parameter sharing', () => {
  it('gives the second owner of a param name the first one’s variable, listed once', () => {
    const net = netFrom(SHARED_NET);
    assert.equal(net.layer('ip_b')!.blobs[0], net.layer('ip_a')!.blobs[0]);
    assert.equal(net.layer('ip_b')!.blobs[1], net.layer('ip_a')!.blobs[1]);
    assert.deepEqual(
      net.learnableParams().map((p) => [p.name, p.lrMult]),
      [
        ['ip_a/0', 3],
        ['ip_a/1', 1],
      ],
    );
    net.dispose();
  });

  it('computes both layers from the same values after the shared variable changes', async () => {
    const net = netFrom(SHARED_NET);
    feedShared(net);
    const w = net.layer('ip_a')!.blobs[0]!;
    w.assign(tf.zerosLike(w));
    const bias = net.layer('ip_a')!.blobs[1]!;
    bias.assign(tf.tensor([1, 0, 0]));
    const result = await net.forward();
    // With zero weights both layers output the bias alone; ip_b reads it only if the variable is shared.
    const expected =
      0.5 * softmaxLossOfRows([Math.tanh(1), 0, 0], [0, 2]) + 2 * softmaxLossOfRows([1, 0, 0], [0, 2]);
    assert.ok(Math.abs(result.loss - expected) < 1e-5, `loss ${result.loss}, expected ${expected}`);
    net.dispose();
  });

  it('rejects a shared name over blobs of different shapes, naming both', () => {
    const mismatched = SHARED_NET.replace(
      'input_param { shape { dim: 2 dim: 4 } shape { dim: 2 dim: 4 }',
      'input_param { shape { dim: 2 dim: 4 } shape { dim: 2 dim: 5 }',
    );
    assert.throws(
      () => netFrom(mismatched),
      (error: unknown) =>
        error instanceof BadInputError &&
        /shared param "w".*"ip_a" has 3x4, this layer has 3x5/.test(error.message),
    );
  });
});

/** Mean softmax loss of the same score row for each label. */
function softmaxLossOfRows(scores: number[], labels: number[]): number {
  const logSum = Math.log(scores.reduce((s, v) => s + Math.exp(v), 0));
  return labels.reduce((s, l) => s + logSum - scores[l]!, 0) / labels.length;
}

describe('Net loss weights and outputs', () => {
  it('sums loss weight × top over the loss layers and reports each output with its weight', async () => {
    const net = netFrom(SHARED_NET);
    feedShared(net);
    const result = await net.forward();
    const byName = new Map(result.outputs.map((o) => [o.name, o]));
    assert.deepEqual([...byName.keys()], ['loss_a', 'loss_b']);
    assert.equal(byName.get('loss_a')!.lossWeight, 0.5);
    assert.equal(byName.get('loss_b')!.lossWeight, 2);
    const weighted = 0.5 * byName.get('loss_a')!.values[0]! + 2 * byName.get('loss_b')!.values[0]!;
    assert.ok(Math.abs(result.loss - weighted) < 1e-6, `loss ${result.loss}, weighted sum ${weighted}`);
    net.dispose();
  });
});

describe('Net gradients', () => {
  it('match central finite differences for every parameter, the shared ones included', async () => {
    const net = netFrom(SHARED_NET, { seed: 5 });
    feedShared(net);
    const pass = await net.forwardBackward();
    const params = net.learnableParams();
    assert.equal(pass.gradients.length, params.length);
    const step = 1e-2;
    for (const [p, param] of params.entries()) {
      const analytic = values(pass.gradients[p]!);
      const original = values(param.variable).slice();
      for (let i = 0; i < original.length; i++) {
        const lossAt = async (delta: number) => {
          const shifted = original.slice();
          shifted[i]! += delta;
          param.variable.assign(tf.tensor(shifted, param.variable.shape));
          return (await net.forward()).loss;
        };
        const numeric = ((await lossAt(step)) - (await lossAt(-step))) / (2 * step);
        const scale = Math.max(1, Math.abs(numeric), Math.abs(analytic[i]!));
        assert.ok(
          Math.abs(numeric - analytic[i]!) <= 1e-3 * scale,
          `${param.name}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`,
        );
      }
      param.variable.assign(tf.tensor(original, param.variable.shape));
    }
    for (const g of pass.gradients) g.dispose();
    net.dispose();
  });
});
