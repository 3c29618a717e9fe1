// Shared by the parity tests: OpenCV (cv2, through Debian's /usr/bin/python3) as the reference, our
// net's output of every layer, random weights, and the difference measure.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';

import { initBackend } from '../../../trainer/backend/index.js';
import { nativeCacheDir } from '../../../trainer/backend/native.js';
import { InputLayer } from '../../../trainer/net/layers/input.js';
import { Net } from '../../../trainer/net/net.js';
import { buildNetSpec } from '../../../trainer/net/spec/index.js';
import { encodeNetParameter, Phase, parseNetPrototxt } from '../../../trainer/proto/index.js';
import { Rng } from '../../../trainer/rng.js';

export { tf };

/** Debian's Python, which has python3-opencv (the python3 on PATH may be another); BREWERY_PARITY_PYTHON overrides it. */
export const PYTHON = process.env.BREWERY_PARITY_PYTHON ?? '/usr/bin/python3';

/** The repository root: the nearest folder above this file holding package.json (works from dist-*). */
export const repoRoot = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
})();

const SCRIPT = path.join(repoRoot, 'test/unit/parity/cv2_reference.py');

/** Why cv2 cannot be used here, or undefined when it can. */
export const cv2Missing: string | undefined = (() => {
  const result = spawnSync(PYTHON, [SCRIPT, 'check'], { encoding: 'utf8' });
  if (result.status === 0) return undefined;
  const detail = result.error?.message ?? result.stderr.trim().split('\n').pop();
  return `${PYTHON} cannot import cv2 (install Debian's python3-opencv): ${detail}`;
})();

/** Skips the test when cv2 is missing, except on CI (CI=true), where a missing reference is a failure. */
export function needsCv2(t: TestContext): boolean {
  if (!cv2Missing) return true;
  if (process.env.CI === 'true') throw new Error(`parity tests need OpenCV on CI: ${cv2Missing}`);
  t.skip(cv2Missing);
  return false;
}

export interface Blob {
  shape: number[];
  values: Float32Array;
}

/** Runs the reference script on a JSON request in a scratch folder; `use` reads its answer there. */
export async function withReference<T>(
  mode: 'forward' | 'resize',
  request: (dir: string) => Promise<object>,
  use: (answer: unknown, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'parity-'));
  try {
    const requestFile = path.join(dir, 'request.json');
    await writeFile(requestFile, JSON.stringify(await request(dir)));
    const result = spawnSync(PYTHON, [SCRIPT, mode, requestFile], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      timeout: 300_000,
    });
    if (result.status !== 0) {
      throw new Error(`cv2_reference.py ${mode} failed (${result.status}): ${result.error ?? result.stderr}`);
    }
    return await use(JSON.parse(result.stdout) as unknown, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function readFloats(file: string): Promise<Float32Array> {
  const bytes = await readFile(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export function floatBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** The net a deploy prototxt describes, in the TEST phase, with fillers drawn from Rng(1). */
export function testNet(prototxt: string, fileName: string): Net {
  const spec = buildNetSpec(parseNetPrototxt(prototxt, fileName), { phase: Phase.TEST, fileName });
  return Net.fromSpec(spec, { rng: new Rng(1) });
}

/**
 * Random weights that keep activations of order one: weights uniform with variance 1/fan-in, small biases;
 * BatchNorm statistics with a positive variance and a scale factor other than 1; Scale factors near 1.
 */
export function randomizeWeights(net: Net, rng: Rng): void {
  for (const layer of net.layers) {
    layer.blobs.forEach((variable, i) => {
      const size = variable.size;
      const fanIn = size / (variable.shape[0] ?? 1);
      const limit = Math.sqrt(3 / fanIn);
      const draw: () => number =
        layer.type === 'BatchNorm'
          ? [() => rng.uniform(-1, 1), () => rng.uniform(0.5, 2), () => 2.5][i]!
          : layer.type === 'Scale' && i === 0
            ? () => rng.uniform(0.5, 1.5)
            : variable.shape.length === 1
              ? () => rng.uniform(-0.1, 0.1)
              : () => rng.uniform(-limit, limit);
      const values = new Float32Array(size);
      for (let k = 0; k < size; k++) values[k] = draw();
      const tensor = tf.tensor(values, variable.shape, 'float32');
      variable.assign(tensor);
      tensor.dispose();
    });
  }
}

/** The net's weights as .caffemodel bytes, written by our own encoder. */
export async function caffemodelOf(net: Net): Promise<Uint8Array> {
  return encodeNetParameter(await net.toNetParameter());
}

/** Feeds the Input layer `name` and runs every layer once: each layer's first top, by layer name. */
export async function everyLayerOutput(
  net: Net,
  inputLayer: string,
  input: Blob,
): Promise<Map<string, Blob>> {
  const layer = net.layer(inputLayer);
  if (!(layer instanceof InputLayer)) throw new Error(`no Input layer "${inputLayer}"`);
  const fed = tf.tensor(input.values, input.shape, 'float32');
  layer.feed([fed]);
  const kept: [string, tf.Tensor][] = [];
  tf.tidy(() => {
    const blobs = new Map<string, tf.Tensor>();
    for (const l of net.layers) {
      const tops = l.forward(
        l.spec.bottoms.map((b) => blobs.get(b)!),
        Phase.TEST,
      );
      tops.forEach((top, k) => {
        blobs.set(l.spec.tops[k]!, top);
      });
      if (tops[0]) kept.push([l.name, tf.keep(tops[0])]);
    }
  });
  fed.dispose();
  const outputs = new Map<string, Blob>();
  for (const [name, tensor] of kept) {
    outputs.set(name, { shape: tensor.shape, values: (await tensor.data()) as Float32Array });
    tensor.dispose();
  }
  return outputs;
}

/**
 * The difference measure of the parity tests: max |ours − reference| / max |reference| (the reference's
 * largest magnitude, floored at 1e-30 so an all-zero reference compares absolutely).
 */
export function relativeMaxDifference(ours: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (ours.length !== reference.length) {
    throw new Error(`expected ${reference.length} values as the reference has, received ${ours.length}`);
  }
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i]! - reference[i]!));
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

/** Uniform random values in [min, max). */
export function randomValues(count: number, rng: Rng, min: number, max: number): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = rng.uniform(min, max);
  return values;
}

export interface LayerComparison {
  layer: string;
  shape: number[];
  referenceShape: number[];
  difference: number;
}

/**
 * Our forward and cv2.dnn's on the same net, weights and input: one comparison per layer named. The net's
 * prototxt must be the text `prototxt` (cv2 reads the same file).
 */
export async function compareWithCv2(
  net: Net,
  prototxt: string,
  inputLayer: string,
  input: Blob,
  layers: string[],
): Promise<LayerComparison[]> {
  const ours = await everyLayerOutput(net, inputLayer, input);
  const inputBlob = net.layer(inputLayer)!.spec.tops[0]!;
  const caffemodel = await caffemodelOf(net);
  return withReference(
    'forward',
    async (dir) => {
      await writeFile(path.join(dir, 'net.prototxt'), prototxt);
      await writeFile(path.join(dir, 'net.caffemodel'), caffemodel);
      await writeFile(path.join(dir, 'input.f32'), floatBytes(input.values));
      return {
        prototxt: path.join(dir, 'net.prototxt'),
        caffemodel: path.join(dir, 'net.caffemodel'),
        inputs: { [inputBlob]: { file: path.join(dir, 'input.f32'), shape: input.shape } },
        layers,
        outDir: dir,
      };
    },
    async (answer) => {
      const byLayer = answer as Record<string, { file: string; shape: number[] }>;
      const comparisons: LayerComparison[] = [];
      for (const layer of layers) {
        const mine = ours.get(layer);
        const theirs = byLayer[layer];
        if (!mine || !theirs) throw new Error(`layer "${layer}": no output from ${mine ? 'cv2' : 'our net'}`);
        const reference = await readFloats(theirs.file);
        comparisons.push({
          layer,
          shape: mine.shape,
          referenceShape: theirs.shape,
          difference: relativeMaxDifference(mine.values, reference),
        });
      }
      return comparisons;
    },
  );
}

/** The backends the parity tests run on: cpu and wasm always, TensorFlow when it is provisioned. */
export const PARITY_BACKENDS: { name: 'cpu' | 'wasm' | 'tensorflow'; skip?: string }[] = [
  { name: 'cpu' },
  { name: 'wasm' },
  {
    name: 'tensorflow',
    ...(existsSync(path.join(nativeCacheDir(), 'node_modules', '@tensorflow', 'tfjs-node'))
      ? {}
      : { skip: 'the native backend is not provisioned (npm run setup:native)' }),
  },
];

/** Makes `name` the backend of the computations that follow. */
export async function useBackend(name: string): Promise<void> {
  await initBackend(name, { log: () => {} });
  assert.equal(tf.getBackend(), name);
}

/** The bound: our outputs equal cv2.dnn's within 1e-4 relative (relativeMaxDifference). */
export const PARITY_TOLERANCE = 1e-4;

/** Reports every layer's difference, then asserts each has cv2's shape and is within the tolerance. */
export function assertMatchesCv2(t: TestContext, comparisons: LayerComparison[]): void {
  for (const c of comparisons)
    t.diagnostic(`${c.layer} ${c.shape.join('x')}: ${c.difference.toExponential(2)}`);
  for (const c of comparisons) {
    assert.deepEqual(
      c.shape,
      c.referenceShape,
      `${c.layer}: ours ${c.shape.join('x')}, cv2 ${c.referenceShape.join('x')}`,
    );
    assert.ok(c.difference <= PARITY_TOLERANCE, `${c.layer}: relative max difference ${c.difference}`);
  }
}
