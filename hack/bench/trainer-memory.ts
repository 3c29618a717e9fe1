// Memory benchmark of one training iteration: CaffeNet (Caffe's deploy net with a label Input and a
// SoftmaxWithLoss in place of the Softmax, input Nx3x227x227) at each batch, on our native and wasm
// backends and on real BVLC Caffe, each run in its own process: peak RSS (maxRSS) beside forward,
// backward and forward-backward milliseconds.
//
//   node dist/hack/bench/trainer-memory.js [--batches=10,64,256] [--targets=tensorflow,wasm,caffe]
//        [--iterations=1] [--warmup=1] [--out=.brewery/bench/trainer-memory.json]
//
// Ours: --warmup forward-backward passes first (default 1), then per iteration a forward pass (Net.forward, the loss read back)
// and a forward-backward pass (Net.forwardBackward, every parameter gradient), whose backward part is
// timed from the end of its forward (the net's memory observer marks it). Medians over --iterations. A
// net too big for wasm's heap is refused before training, as the trainer refuses it; the row says so.
// Real Caffe: `caffe time -model M -iterations N` under /usr/bin/time -v (its Average Forward pass,
// Average Backward pass, Average Forward-Backward, and Maximum resident set size), found as the parity
// tests find it (hack/lib/caffe-reference.ts). Only one process runs at a time.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../trainer/backend/index.js';
import { BadInputError } from '../../trainer/contract/errors.js';
import { MemoryProfile } from '../../trainer/net/memory-profile.js';
import { Net } from '../../trainer/net/net.js';
import { buildNetSpec } from '../../trainer/net/spec/index.js';
import { Phase, parseNetPrototxt } from '../../trainer/proto/index.js';
import { Rng } from '../../trainer/rng.js';
import { caffeReference } from '../lib/caffe-reference.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const DEPLOY = 'trainer/models/bvlc_reference_caffenet/deploy.prototxt';
const SEED = 1;

type Row = {
  target: string;
  batch: number;
  forwardMs: number | null;
  backwardMs: number | null;
  forwardBackwardMs: number | null;
  peakRssMiB: number | null;
  /** Ours: the most tensor bytes tfjs held during the iteration. */
  peakTensorsMiB?: number;
  /** Why there are no figures (a refusal, a failure). */
  note?: string;
};

const flags = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [key, ...rest] = arg.replace(/^--/, '').split('=');
    return [key!, rest.join('=')];
  }),
) as Record<string, string | undefined>;

if (flags.worker) {
  const row = await worker(
    flags.worker,
    flags.model!,
    Number(flags.batch),
    Number(flags.iterations ?? 1),
    Number(flags.warmup ?? 1),
  );
  process.stdout.write(`${JSON.stringify(row)}\n`);
} else {
  await main();
}

async function main(): Promise<void> {
  const batches = (flags.batches ?? '10,64,256').split(',').map(Number);
  const targets = (flags.targets ?? 'tensorflow,wasm,caffe').split(',').filter(Boolean);
  const iterations = Number(flags.iterations ?? 1);
  const dir = mkdtempSync(join(os.tmpdir(), 'trainer-memory-'));
  const loadBefore = os.loadavg();
  const rows: Row[] = [];
  try {
    for (const batch of batches) {
      const model = join(dir, `caffenet-${batch}.prototxt`);
      writeFileSync(model, caffeNetWithLoss(batch));
      for (const target of targets) {
        process.stderr.write(`bench: ${target} at batch ${batch}...\n`);
        rows.push(
          target === 'caffe' ? realCaffe(model, batch, iterations) : ours(target, model, batch, iterations),
        );
        process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const report = {
    date: new Date().toISOString(),
    model: `${DEPLOY} + SoftmaxWithLoss`,
    cores: os.availableParallelism(),
    iterations,
    loadAverage: { before: loadBefore, after: os.loadavg() },
    rows,
  };
  process.stdout.write(`${formatTable(rows)}\n`);
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  process.stdout.write(`load average before ${load(loadBefore)}, after ${load(report.loadAverage.after)}\n`);
  const out = flags.out ?? join('.brewery', 'bench', 'trainer-memory.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`saved ${out}\n`);
}

/** Caffe's deploy CaffeNet at `batch`, with a label Input and SoftmaxWithLoss in place of Softmax. */
function caffeNetWithLoss(batch: number): string {
  const deploy = readFileSync(join(repo, DEPLOY), 'utf8');
  const input = /dim: 10 dim: 3/;
  const softmax = /layer \{\s*name: "prob"\s*type: "Softmax"[^}]*\}/;
  if (!input.test(deploy) || !softmax.test(deploy)) throw new Error(`${DEPLOY}: not the expected deploy net`);
  const withBatch = deploy.replace(input, `dim: ${batch} dim: 3`);
  return withBatch.replace(
    softmax,
    `layer { name: "label" type: "Input" top: "label" input_param { shape: { dim: ${batch} } } }\n` +
      'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc8" bottom: "label" top: "loss" }',
  );
}

function ours(backend: string, model: string, batch: number, iterations: number): Row {
  const args = [
    fileURLToPath(import.meta.url),
    `--warmup=${flags.warmup ?? 1}`,
    `--worker=${backend}`,
    `--model=${model}`,
    `--batch=${batch}`,
    `--iterations=${iterations}`,
  ];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status === 0 && line.startsWith('{')) return JSON.parse(line) as Row;
  const why = run.stderr.trim().split('\n').slice(-3).join(' | ') || `exit ${run.status ?? run.signal}`;
  return { ...empty(backend, batch), note: `failed: ${why}` };
}

async function worker(
  backend: string,
  model: string,
  batch: number,
  iterations: number,
  warmup: number,
): Promise<Row> {
  await initBackend(backend);
  const spec = buildNetSpec(parseNetPrototxt(readFileSync(model, 'utf8'), model), {
    phase: Phase.TRAIN,
    fileName: model,
  });
  let net: Net;
  try {
    net = Net.fromSpec(spec, { rng: new Rng(SEED) });
  } catch (error) {
    if (!(error instanceof BadInputError)) throw error;
    return { ...empty(backend, batch), peakRssMiB: maxRssMiB(), note: `refused: ${error.message}` };
  }
  const rng = new Rng(SEED + 1);
  const images = new Float32Array(batch * 3 * 227 * 227);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform(-100, 100);
  const labels = new Float32Array(batch);
  for (let i = 0; i < batch; i++) labels[i] = Math.floor(rng.uniform(0, 1000));
  const input = (name: string) => net.layer(name) as unknown as { feed(values: tf.Tensor[]): void };
  input('data').feed([tf.tensor(images, [batch, 3, 227, 227])]);
  input('label').feed([tf.tensor(labels, [batch])]);
  const profile = new MemoryProfile(
    net.layers.map((l) => l.name),
    net.learnableParams().map((p) => p.variable),
  );
  let backwardStart = 0;
  net.memoryObserver = {
    forward: (l) => profile.forward(l),
    backward: (l, held) => {
      if (l < 0) backwardStart = performance.now();
      profile.backward(l, held);
    },
  };
  const forwardBackward = async () => {
    const start = performance.now();
    tf.dispose((await net.forwardBackward()).gradients);
    const end = performance.now();
    return { total: end - start, backward: end - backwardStart };
  };
  for (let i = 0; i < warmup; i++) await forwardBackward();
  const forward: number[] = [];
  const backward: number[] = [];
  const both: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await net.forward();
    forward.push(performance.now() - start);
    const pass = await forwardBackward();
    both.push(pass.total);
    backward.push(pass.backward);
  }
  net.dispose();
  return {
    target: backend,
    batch,
    forwardMs: median(forward),
    backwardMs: median(backward),
    forwardBackwardMs: median(both),
    peakRssMiB: maxRssMiB(),
    peakTensorsMiB: (profile.peak?.tensorBytes ?? 0) / 2 ** 20,
  };
}

function realCaffe(model: string, batch: number, iterations: number): Row {
  const caffe = caffeReference();
  if (!caffe)
    return {
      ...empty('caffe', batch),
      note: 'skipped: no real Caffe build (see hack/lib/caffe-reference.ts)',
    };
  const run = spawnSync(
    '/usr/bin/time',
    ['-v', 'caffe', 'time', `-model=${model}`, `-iterations=${iterations}`],
    { env: { ...caffe.env, GLOG_logtostderr: '1' }, encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  const text = run.stderr;
  const ms = (label: string) => {
    const match = new RegExp(`${label}: ([0-9.e+]+) ms`).exec(text);
    return match ? Number(match[1]) : null;
  };
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
  return {
    target: 'caffe',
    batch,
    forwardMs: ms('Average Forward pass'),
    backwardMs: ms('Average Backward pass'),
    forwardBackwardMs: ms('Average Forward-Backward'),
    peakRssMiB: rss ? Number(rss[1]) / 1024 : null,
    ...(run.status === 0
      ? {}
      : { note: `failed: exit ${run.status}: ${text.trim().split('\n').slice(-2).join(' | ')}` }),
  };
}

function formatTable(rows: Row[]): string {
  const caffe = new Map(rows.filter((r) => r.target === 'caffe').map((r) => [r.batch, r]));
  const num = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(0));
  const table = [
    [
      'target',
      'batch',
      'fwd ms',
      'bwd ms',
      'fwd-bwd ms',
      'fwd-bwd / (fwd + bwd)',
      'peak RSS MiB',
      'vs Caffe',
      'peak tensors MiB',
    ],
    ...rows.map((r) => {
      const ref = caffe.get(r.batch)?.peakRssMiB;
      const sum = r.forwardMs !== null && r.backwardMs !== null ? r.forwardMs + r.backwardMs : null;
      return [
        r.target,
        String(r.batch),
        num(r.forwardMs),
        num(r.backwardMs),
        num(r.forwardBackwardMs),
        sum && r.forwardBackwardMs !== null ? (r.forwardBackwardMs / sum).toFixed(2) : '-',
        num(r.peakRssMiB),
        ref && r.peakRssMiB !== null && !r.note ? `${(r.peakRssMiB / ref).toFixed(2)}x` : '-',
        num(r.peakTensorsMiB),
      ];
    }),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  for (const r of rows) if (r.note) lines.push(`${r.target} at batch ${r.batch}: ${r.note}`);
  return lines.join('\n');
}

function empty(target: string, batch: number): Row {
  return { target, batch, forwardMs: null, backwardMs: null, forwardBackwardMs: null, peakRssMiB: null };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function maxRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
