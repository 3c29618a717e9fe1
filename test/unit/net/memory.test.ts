// Training memory (#22): the freeing backward gives tf.variableGrads' gradients bit for bit and leaves no
// tensor behind; the lean ReLU, conv bias and LRN give the plain tfjs ops' gradients bit for bit while
// keeping fewer tensors for backward; a net too big for wasm's heap is refused naming a batch that fits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import {
  addChannelBias,
  lrnAcrossChannels,
  lrnAcrossChannelsByBand,
  reluKeepingOutput,
} from '../../../trainer/net/layers/lean-gradients.js';
import {
  checkFitsWasmHeap,
  WASM_HEAP_BYTES,
  wasmTrainingHeapBytes,
} from '../../../trainer/net/memory-estimate.js';
import { buildNetSpec } from '../../../trainer/net/spec/index.js';
import { activeTapeSavedBytes, tapedGradients } from '../../../trainer/net/tape-backward.js';
import { parseNetPrototxt } from '../../../trainer/proto/index.js';
import { feedTiny, netFrom, seededValues, TINY_NET, tf } from './support.js';

const LRN_NET = `
name: "lrn"
layer { name: "input" type: "Input" top: "data" top: "label"
  input_param { shape { dim: 2 dim: 3 dim: 7 dim: 7 } shape { dim: 2 } } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: 6 kernel_size: 3 pad: 1 group: 1 weight_filler { type: "gaussian" std: 0.5 } bias_filler { type: "constant" value: 0.1 } } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
layer { name: "norm" type: "LRN" bottom: "conv" top: "norm" lrn_param { local_size: 5 alpha: 0.1 beta: 0.75 } }
layer { name: "drop" type: "Dropout" bottom: "norm" top: "norm" }
layer { name: "ip" type: "InnerProduct" bottom: "norm" top: "ip"
  inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 0.1 } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`;

/** lrn.ts's ACROSS_CHANNELS LRN as plain tfjs ops, each with tfjs's own gradient. */
function plainLrn(input: tf.Tensor, settings: { localSize: number; alpha: number; beta: number; k: number }) {
  const [n, c, h, w] = input.shape as number[];
  const half = (settings.localSize - 1) / 2;
  const padded = tf.pad(tf.reshape(tf.square(input), [n!, c!, h! * w!, 1]) as tf.Tensor4D, [
    [0, 0],
    [half, half],
    [0, 0],
    [0, 0],
  ]);
  const mean = tf.avgPool(padded, [settings.localSize, 1], 1, 'valid');
  const scale = tf.add(tf.mul(tf.reshape(mean, input.shape), settings.alpha), settings.k);
  return tf.mul(input, tf.pow(scale, -settings.beta));
}

async function values(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  return Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array));
}

describe('the freeing backward', () => {
  for (const [name, prototxt] of [
    ['tiny', TINY_NET],
    ['lrn', LRN_NET],
  ] as const) {
    it(`gives tf.variableGrads' gradients bit for bit and frees everything else (${name} net)`, async () => {
      const reference = netFrom(prototxt, { seed: 3 });
      const net = netFrom(prototxt, { seed: 3 });
      for (const n of [reference, net]) {
        if (name === 'tiny') feedTiny(n);
        else {
          const input = n.layer('input') as unknown as { feed(values: tf.Tensor[]): void };
          input.feed([tf.tensor(seededValues(2 * 3 * 49, 5), [2, 3, 7, 7]), tf.tensor([1, 3], [2])]);
        }
      }
      const vars = reference.learnableParams().map((p) => p.variable);
      const expected = tf.variableGrads(() => reference.runGraph().loss, vars);
      const before = tf.memory().numTensors;
      const pass = await net.forwardBackward();
      // Only the gradients are new.
      assert.equal(tf.memory().numTensors, before + pass.gradients.length);
      const got = await values(pass.gradients);
      const want = await values(vars.map((v) => expected.grads[v.name]!));
      assert.equal(pass.loss, (await expected.value.data())[0]);
      for (const [i, g] of got.entries()) assert.deepEqual(g, want[i], `gradient ${i}`);
      tf.dispose([...pass.gradients, expected.value, ...Object.values(expected.grads)]);
      reference.dispose();
      net.dispose();
    });
  }
});

describe('lean gradients', () => {
  const x = () => tf.tensor(seededValues(2 * 6 * 4 * 4, 9, -2, 2), [2, 6, 4, 4]) as tf.Tensor4D;
  const upstream = tf.tensor(seededValues(2 * 6 * 4 * 4, 11), [2, 6, 4, 4]);
  const grad = (f: (input: tf.Tensor) => tf.Tensor) =>
    tf.grad((input: tf.Tensor) => tf.sum(tf.mul(f(input), upstream)))(x());

  it('ReLU, conv bias and LRN match the plain ops bit for bit', async () => {
    const settings = { localSize: 5, alpha: 1e-4 * 3, beta: 0.75, k: 2 };
    const bias = tf.tensor(seededValues(4, 13), [4]);
    const pairs: [(t: tf.Tensor) => tf.Tensor, (t: tf.Tensor) => tf.Tensor][] = [
      [reluKeepingOutput, tf.relu],
      [(t) => addChannelBias(t, bias), (t) => tf.add(t, bias)],
      [(t) => lrnAcrossChannels(t as tf.Tensor4D, settings), (t) => plainLrn(t, settings)],
    ];
    for (const [lean, plain] of pairs) {
      assert.deepEqual(await lean(x()).data(), await plain(x()).data());
      assert.deepEqual(await grad(lean).data(), await grad(plain).data());
    }
  });

  it("LRN's band-matrix form (the native backend's) gives the same values and gradient to float32 rounding", async () => {
    const settings = { localSize: 5, alpha: 1e-4 * 3, beta: 0.75, k: 2 };
    const band = (t: tf.Tensor) => lrnAcrossChannelsByBand(t as tf.Tensor4D, settings);
    const pooled = (t: tf.Tensor) => lrnAcrossChannels(t as tf.Tensor4D, settings);
    for (const [got, want] of [
      [await band(x()).data(), await pooled(x()).data()],
      [await grad(band).data(), await grad(pooled).data()],
    ]) {
      for (let i = 0; i < want!.length; i++) {
        assert.ok(Math.abs(got![i]! - want![i]!) <= 1e-6 + 1e-5 * Math.abs(want![i]!), `element ${i}`);
      }
    }
  });

  it('keep fewer bytes for backward than the plain ops', () => {
    const kept = (f: (input: tf.Tensor) => tf.Tensor) => {
      const state = tf.engine().state as unknown as { activeTape: unknown[] | null; gradientDepth: number };
      const input = tf.variable(x());
      let bytes = 0;
      const pass = tapedGradients(() => {
        const loss = tf.tidy(() => tf.sum(f(input))) as tf.Scalar;
        bytes = activeTapeSavedBytes([input]);
        return { loss, result: undefined };
      }, [input]);
      tf.dispose([pass.loss, ...pass.grads.filter((g) => g !== null)]);
      input.dispose();
      assert.equal(state.activeTape, null);
      return bytes;
    };
    const relu = (t: tf.Tensor) => tf.relu(tf.add(t, 1));
    assert.ok(kept((t) => reluKeepingOutput(tf.add(t, 1))) < kept(relu));
    // LRN: its bottom and scale, against the plain ops' seven tensors (Sum keeps its input here too).
    const settings = { localSize: 3, alpha: 1, beta: 0.75, k: 1 };
    const activation = 2 * 6 * 4 * 4 * 4;
    const lrn = kept((t) => lrnAcrossChannels(tf.add(t, 1) as tf.Tensor4D, settings));
    assert.ok(lrn <= 3 * activation + 4, `LRN keeps ${lrn} bytes`);
    // The band form keeps its bottom, its scale and the C x C band (and the same scalar as above).
    const byBand = kept((t) => lrnAcrossChannelsByBand(tf.add(t, 1) as tf.Tensor4D, settings));
    assert.ok(byBand <= 3 * activation + 4 + 6 * 6 * 4, `LRN by band keeps ${byBand} bytes`);
    assert.ok(kept((t) => plainLrn(tf.add(t, 1), settings)) >= 6 * activation);
  });
});

describe('the wasm heap check', () => {
  const spec = (batch: number) =>
    buildNetSpec(
      parseNetPrototxt(
        LRN_NET.replace('dim: 2 dim: 3', `dim: ${batch} dim: 3`).replace(
          'shape { dim: 2 } }',
          `shape { dim: ${batch} } }`,
        ),
        'lrn.prototxt',
      ),
      {
        phase: 0,
        fileName: 'lrn.prototxt',
      },
    );

  it('refuses a batch that cannot fit, naming the largest that does', () => {
    const paramBytes = 1 << 20;
    const batch = 4_000_000;
    assert.ok(wasmTrainingHeapBytes(spec(batch), paramBytes, 1) > WASM_HEAP_BYTES);
    let message = '';
    assert.throws(
      () => checkFitsWasmHeap(spec(batch), paramBytes),
      (error: unknown) => {
        message = (error as Error).message;
        return error instanceof BadInputError && /net "lrn"/.test(message);
      },
    );
    const fits = Number(/batch (\d+) fits/.exec(message)?.[1]);
    assert.ok(fits > 0 && fits < batch, message);
    assert.ok(wasmTrainingHeapBytes(spec(fits), paramBytes, 1) <= WASM_HEAP_BYTES);
    assert.ok(wasmTrainingHeapBytes(spec(fits + 1), paramBytes, 1) > WASM_HEAP_BYTES);
    checkFitsWasmHeap(spec(fits), paramBytes);
  });
});
