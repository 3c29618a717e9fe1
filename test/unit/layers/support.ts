// Shared by the layer tests: building one layer from a tiny net through the real net spec, seeded inputs,
// and the numerical gradient check (central finite differences against tfjs's gradients).
import assert from 'node:assert/strict';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { createLayer, type Layer } from '../../../trainer/net/layers/index.js';
import { buildNetSpec, type LayerSpec } from '../../../trainer/net/spec/index.js';
import type { LayerParameter } from '../../../trainer/proto/messages.js';
import { Rng } from '../../../trainer/rng.js';

await tf.setBackend('cpu');

export { tf };

/** Input blobs by name and shape, feeding the layer under test. */
export type Inputs = Record<string, number[]>;

/** The spec of `layer` in a net made of one Input layer (declaring `inputs`) and `layer`, by the real net spec. */
export function layerSpecFor(inputs: Inputs, layer: LayerParameter, phase = 0): LayerSpec {
  const names = Object.keys(inputs);
  const net = {
    name: 'test',
    layer: [
      {
        name: 'input',
        type: 'Input',
        top: names,
        inputParam: { shape: names.map((name) => ({ dim: inputs[name]! })) },
      },
      layer,
    ],
  };
  const layerSpec = buildNetSpec(net, { phase }).layers.find((l) => l.name === layer.name);
  assert.ok(layerSpec, `net spec has no layer ${layer.name}`);
  return layerSpec;
}

/** The layer `layer` set up by the real net spec for `phase` (0 TRAIN), its fillers drawn from Rng(seed). */
export function buildLayer(
  inputs: Inputs,
  layer: LayerParameter,
  options: { phase?: number; seed?: number } = {},
): Layer {
  return createLayer(layerSpecFor(inputs, layer, options.phase ?? 0), { rng: new Rng(options.seed ?? 1) });
}

/** A layer built from a spec whose parameters were changed after the net spec checked them. */
export function buildFromEditedSpec(spec: LayerSpec, param: Partial<LayerParameter>): Layer {
  return createLayer({ ...spec, param: { ...spec.param, ...param } }, { rng: new Rng(1) });
}

/** A tensor of `shape` with values uniform in [min, max) from Rng(seed). */
export function seeded(shape: number[], seed: number, min = -1, max = 1): tf.Tensor {
  const rng = new Rng(seed);
  const values = new Float32Array(shape.reduce((n, d) => n * d, 1));
  for (let i = 0; i < values.length; i++) values[i] = rng.uniform(min, max);
  return tf.tensor(values, shape);
}

/**
 * A tensor of `shape` holding a seeded shuffle of distinct values spaced `gap` apart, centred on 0: no two
 * are within a finite-difference step of each other, so max-like layers keep their winners when perturbed.
 */
export function distinct(shape: number[], seed: number, gap = 0.1): tf.Tensor {
  const count = shape.reduce((n, d) => n * d, 1);
  const values = Array.from({ length: count }, (_, i) => (i - count / 2) * gap);
  const rng = new Rng(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return tf.tensor(values, shape);
}

export interface GradientCheck {
  /** Finite-difference step. */
  step: number;
  /** Allowed |analytic - numeric| relative to max(1, |analytic|, |numeric|). */
  tolerance: number;
  /** Indices of the bottoms to check (others, such as labels, are held fixed). Default: all. */
  bottoms?: number[];
  /** Also check the layer's trainable blobs. Default true. */
  blobs?: boolean;
  phase?: number;
}

/**
 * Checks the gradient of L = Σ_tops Σ c ⊙ top (c fixed, seeded in [-1, 1)) with respect to the chosen bottoms
 * and the layer's trainable blobs, element by element, against central differences. Returns how many
 * elements were compared, so a test can assert the check covered something.
 */
export function checkGradients(layer: Layer, bottoms: tf.Tensor[], options: GradientCheck): number {
  const phase = options.phase ?? 0;
  const checked = options.bottoms ?? bottoms.map((_, i) => i);
  const topShapes = tf.tidy(() => layer.forward(bottoms, phase).map((t) => t.shape));
  const coefficients = topShapes.map((shape, i) => seeded(shape, 1000 + i));
  const objective = (xs: tf.Tensor[]): tf.Scalar =>
    tf.tidy(() => {
      const tops = layer.forward(xs, phase);
      return tf.addN(tops.map((top, i) => tf.sum(tf.mul(top, coefficients[i]!)))) as tf.Scalar;
    });
  const withChecked = (values: tf.Tensor[]) =>
    bottoms.map((b, i) => (checked.includes(i) ? values[checked.indexOf(i)]! : b));

  const failures: string[] = [];
  let compared = 0;
  const compare = (
    what: string,
    analytic: Float32Array | Int32Array | Uint8Array,
    numeric: (j: number) => number,
  ) => {
    for (let j = 0; j < analytic.length; j++) {
      const a = analytic[j]!;
      const n = numeric(j);
      compared++;
      if (Math.abs(a - n) > options.tolerance * Math.max(1, Math.abs(a), Math.abs(n))) {
        failures.push(`${what}[${j}]: analytic ${a}, numeric ${n}`);
      }
    }
  };

  if (checked.length > 0) {
    const analytic = tf.tidy(() =>
      tf
        .grads((...xs: tf.Tensor[]) => objective(withChecked(xs)))(checked.map((i) => bottoms[i]!))
        .map((g) => g.dataSync()),
    );
    checked.forEach((bottomIndex, k) => {
      const base = bottoms[bottomIndex]!;
      const values = base.dataSync().slice();
      compare(`bottom ${bottomIndex}`, analytic[k]!, (j) => {
        const at = (delta: number) => {
          const perturbed = values.slice();
          perturbed[j] = perturbed[j]! + delta;
          const t = tf.tensor(perturbed, base.shape);
          const value = objective(bottoms.map((b, i) => (i === bottomIndex ? t : b))).dataSync()[0]!;
          t.dispose();
          return value;
        };
        return (at(options.step) - at(-options.step)) / (2 * options.step);
      });
    });
  }

  const variables = options.blobs === false ? [] : layer.blobs.filter((v) => v.trainable);
  if (variables.length > 0) {
    const { grads } = tf.variableGrads(() => objective(bottoms), variables);
    variables.forEach((variable, k) => {
      const values = variable.dataSync().slice();
      compare(`blob ${k}`, grads[variable.name]!.dataSync() as Float32Array, (j) => {
        const at = (delta: number) => {
          const perturbed = values.slice();
          perturbed[j] = perturbed[j]! + delta;
          variable.assign(tf.tensor(perturbed, variable.shape));
          return objective(bottoms).dataSync()[0]!;
        };
        const slope = (at(options.step) - at(-options.step)) / (2 * options.step);
        variable.assign(tf.tensor(values, variable.shape));
        return slope;
      });
    });
    for (const g of Object.values(grads)) g.dispose();
  }
  for (const c of coefficients) c.dispose();
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${compared} gradient elements differ`);
  return compared;
}

/** Values of a tensor as a plain array, rounded to 1e-5 so float noise does not matter in comparisons. */
export function valuesOf(t: tf.Tensor): number[] {
  return Array.from(t.dataSync(), (v) => Math.round(v * 1e5) / 1e5);
}

/** Asserts two arrays agree element by element within `tolerance`. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what = '',
): void {
  assert.equal(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(
      Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)),
      `${what}[${i}]: expected ${e}, received ${a}`,
    );
  }
}
