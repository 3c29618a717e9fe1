// The layer parity harness: one layer set up by real Caffe (pycaffe, caffe_layers.py) and by our Net from the
// same prototxt, on the same bottoms, with Caffe's filled parameters copied into ours and the same top
// diffs; tops, bottom diffs and parameter diffs are compared. Every case of a test file goes to one python
// process, so the whole batch costs one Caffe start-up.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { InputLayer } from '../../../trainer/net/layers/input.js';
import { Net } from '../../../trainer/net/net.js';
import { buildNetSpec } from '../../../trainer/net/spec/index.js';
import { parseNetPrototxt } from '../../../trainer/proto/index.js';
import { Rng } from '../../../trainer/rng.js';
import type { CaffeReference } from '../../support/caffe-reference.js';
import { PYTHON, repoRoot } from './support.js';

await tf.setBackend('cpu');

const SCRIPT = path.join(repoRoot, 'test/unit/parity/caffe_layers.py');

/** One bottom: its shape and values (seeded by the case). */
export interface CaseInput {
  shape: number[];
  values: number[];
}

export interface LayerCase {
  /** Unique; names the case in failures. */
  name: string;
  /** The layer under test as prototxt text; its name must be "t". Not in place. */
  layer: string;
  inputs: Record<string, CaseInput>;
  /** Its tops, whose values are compared and which receive seeded diffs. */
  tops: string[];
  /** Bottoms whose diffs are compared (Caffe computes none for labels and such). */
  bottoms: string[];
  phase?: number;
  /**
   * Bottoms Caffe's net makes with Parameter layers instead of Input, without force_backward: Caffe aborts
   * when forced to back-propagate into an index or matrix bottom (BatchReindex, InfogainLoss's H), so only
   * these then need backward. Ours always uses Input layers; the maths is the same.
   */
  caffeLearned?: string[];
  /** Allowed |ours - Caffe's| relative to max(1, |Caffe's|). Default 1e-5. */
  tolerance?: number;
}

export interface Compared {
  name: string;
  /** Mismatch descriptions (at most a few per array); empty when the case agrees. */
  failures: string[];
  /** How many numbers were compared. */
  compared: number;
}

interface CaffeResult {
  name: string;
  error?: string;
  params: number[][];
  tops: Record<string, number[]>;
  topShapes: Record<string, number[]>;
  topDiffs: Record<string, number[]>;
  bottomDiffs: Record<string, number[]>;
  paramDiffs: number[][];
}

/**
 * The whole net of a case: Input layers declaring its bottoms, then the layer under test. For Caffe
 * (`forCaffe`), the `caffeLearned` bottoms come from Parameter layers instead, and force_backward is set
 * unless the case has no bottom diffs to compare (Caffe aborts on a forced backward of Threshold, ArgMax
 * and Embed) or uses `caffeLearned`.
 */
export function caseNet(c: LayerCase, forCaffe = false): string {
  const learned = forCaffe ? (c.caffeLearned ?? []) : [];
  const names = Object.keys(c.inputs).filter((n) => !learned.includes(n));
  const shapeOf = (n: string) => `shape { ${c.inputs[n]!.shape.map((d) => `dim: ${d}`).join(' ')} }`;
  const force = !forCaffe || (c.bottoms.length > 0 && learned.length === 0);
  const lines = [`name: "${c.name}"`, force ? 'force_backward: true' : ''];
  if (names.length > 0) {
    const tops = names.map((n) => `top: "${n}"`).join(' ');
    lines.push(
      `layer { name: "input" type: "Input" ${tops} input_param { ${names.map(shapeOf).join(' ')} } }`,
    );
  }
  for (const n of learned) {
    lines.push(
      `layer { name: "learned_${n}" type: "Parameter" top: "${n}" parameter_param { ${shapeOf(n)} } }`,
    );
  }
  // Without force_backward Caffe back-propagates only into layers that lead to a loss: a loss weight on
  // each top makes the layer one (the top diffs are then set by the script, as always).
  lines.push(force ? c.layer : withLossWeights(c.layer, c.tops.length));
  return `${lines.join('\n')}\n`;
}

function withLossWeights(layer: string, tops: number): string {
  const end = layer.lastIndexOf('}');
  return `${layer.slice(0, end)}${' loss_weight: 1'.repeat(tops)} }`;
}

/** Runs every case through real Caffe, then through ours, and compares. */
export function compareWithCaffe(caffe: CaffeReference, cases: LayerCase[]): Compared[] {
  const request = cases.map((c) => ({
    name: c.name,
    net: caseNet(c, true),
    phase: c.phase ?? 0,
    layer: 't',
    inputs: Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, v.values])),
    tops: c.tops,
    bottoms: c.bottoms,
    seed: 7,
  }));
  const run = spawnSync(PYTHON, [SCRIPT], {
    env: caffe.env,
    input: JSON.stringify({ cases: request }),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const results = new Map<string, CaffeResult>();
  for (const line of run.stdout.split('\n').filter((l) => l.trim() !== '')) {
    const result = JSON.parse(line) as CaffeResult;
    results.set(result.name, result);
  }
  return cases.map((c) => {
    const result = results.get(c.name);
    if (!result) {
      return {
        name: c.name,
        compared: 0,
        failures: [
          `real Caffe gave no result (exit ${run.status}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`,
        ],
      };
    }
    if (result.error) return { name: c.name, compared: 0, failures: [`real Caffe failed: ${result.error}`] };
    try {
      return compareCase(c, result);
    } catch (error) {
      return { name: c.name, compared: 0, failures: [`ours failed: ${(error as Error).message}`] };
    }
  });
}

function compareCase(c: LayerCase, caffe: CaffeResult): Compared {
  const tolerance = c.tolerance ?? 1e-5;
  const failures: string[] = [];
  let compared = 0;
  const check = (what: string, ours: ArrayLike<number>, theirs: number[]) => {
    if (ours.length !== theirs.length) {
      failures.push(`${what}: ${ours.length} values, Caffe has ${theirs.length}`);
      return;
    }
    let bad = 0;
    for (let i = 0; i < theirs.length; i++) {
      compared++;
      const a = ours[i]!;
      const e = theirs[i]!;
      if (!(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e))) && bad++ < 3) {
        failures.push(`${what}[${i}]: ours ${a}, Caffe ${e}`);
      }
    }
  };

  const phase = c.phase ?? 0;
  const spec = buildNetSpec(parseNetPrototxt(caseNet(c), `${c.name}.prototxt`), { phase });
  const net = Net.fromSpec(spec, { rng: new Rng(1) });
  try {
    const layer = net.layer('t');
    const input = net.layer('input') as InputLayer | undefined;
    if (!layer) throw new Error('case net has no layer "t"');
    if (input && !(input instanceof InputLayer)) throw new Error('case layer "input" is not an Input layer');
    if (layer.blobs.length !== caffe.params.length) {
      failures.push(`ours has ${layer.blobs.length} parameter blobs, Caffe has ${caffe.params.length}`);
      return { name: c.name, failures, compared };
    }
    for (const [i, blob] of layer.blobs.entries()) {
      const values = tf.tensor(caffe.params[i]!, blob.shape, 'float32');
      blob.assign(values);
      values.dispose();
    }
    const names = Object.keys(c.inputs);
    const bottoms = names.map((n) => tf.tensor(c.inputs[n]!.values, c.inputs[n]!.shape, 'float32'));
    const diffs = c.tops.map((t) => caffe.topDiffs[t]!);
    const objective = (xs: tf.Tensor[]): tf.Scalar => {
      if (input) input.feed(xs);
      const { blobs } = net.runGraph(phase);
      return tf.addN(
        c.tops.map((t, k) => {
          const top = blobs.get(t)!;
          return tf.sum(tf.mul(top, tf.tensor(diffs[k]!, top.shape, 'float32')));
        }),
      ) as tf.Scalar;
    };
    tf.tidy(() => {
      if (input) input.feed(bottoms);
      const { blobs } = net.runGraph(phase);
      for (const t of c.tops) {
        const top = blobs.get(t)!;
        const shape = caffe.topShapes[t]!;
        if (top.shape.join('x') !== shape.join('x')) {
          failures.push(`top ${t}: shape ${top.shape.join('x')}, Caffe ${shape.join('x')}`);
        } else check(`top ${t}`, top.dataSync(), caffe.tops[t]!);
      }
    });
    if (c.bottoms.length > 0) {
      tf.tidy(() => {
        const grads = tf.grads((...xs: tf.Tensor[]) =>
          objective(names.map((n, i) => (c.bottoms.includes(n) ? xs[c.bottoms.indexOf(n)]! : bottoms[i]!))),
        )(c.bottoms.map((b) => bottoms[names.indexOf(b)]!));
        c.bottoms.forEach((b, k) => {
          check(`bottom diff ${b}`, grads[k]!.dataSync(), caffe.bottomDiffs[b]!);
        });
      });
    }
    const variables = layer.blobs.filter((v) => v.trainable);
    if (variables.length > 0) {
      const { value, grads } = tf.variableGrads(() => objective(bottoms), variables);
      layer.blobs.forEach((blob, i) => {
        if (!blob.trainable) return;
        check(`param diff ${i}`, grads[blob.name]!.dataSync(), caffe.paramDiffs[i]!);
      });
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
    }
    for (const b of bottoms) b.dispose();
  } finally {
    net.dispose();
  }
  return { name: c.name, failures, compared };
}

/** Seeded values uniform in [min, max). */
export function uniform(shape: number[], seed: number, min = -1, max = 1): CaseInput {
  const rng = new Rng(seed);
  const n = shape.reduce((a, d) => a * d, 1);
  return { shape, values: Array.from({ length: n }, () => Math.fround(rng.uniform(min, max))) };
}

/** Seeded integers in [0, classes), for labels and indices. */
export function integers(shape: number[], seed: number, classes: number): CaseInput {
  const rng = new Rng(seed);
  const n = shape.reduce((a, d) => a * d, 1);
  return { shape, values: Array.from({ length: n }, () => rng.nextInt(classes)) };
}

/** A seeded shuffle of distinct values `gap` apart centred on 0 (max-like layers have clear winners). */
export function distinct(shape: number[], seed: number, gap = 0.05): CaseInput {
  const n = shape.reduce((a, d) => a * d, 1);
  const values = Array.from({ length: n }, (_, i) => Math.fround((i - n / 2) * gap + gap / 3));
  const rng = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return { shape, values };
}
