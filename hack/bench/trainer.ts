// Benchmark of the trainer itself: CaffeNet built by the trainer's Net from
// trainer/models/bvlc_reference_caffenet/train_val.prototxt (TRAIN phase: dropout and SoftmaxWithLoss
// included), its Data layer fed a fixed random batch instead of LMDB, timed forward and
// forward-backward on every backend that starts here, beside PyTorch on the CPU for the same net.
// Each backend runs in its own process, so the peak RSS of a row is that backend's alone.
//
//   node dist/hack/bench/trainer.js [--batch=16] [--iterations=3] [--cpu-batch=1]
//        [--backends=tensorflow,wasm,cpu] [--torch=/usr/bin/python3] [--threads=N]
//        [--out=.brewery/bench/trainer.json]
//
// Times are medians over --iterations after one warm-up pass (the pure-JS cpu backend: one pass at
// --cpu-batch, no warm-up; it takes minutes). A forward-backward pass is Net.forwardBackward as the
// solver calls it: the loss read back and every parameter gradient computed, no weight update. A
// backend that cannot start (tensorflow before `npm run setup:native`) is reported and skipped.
// PyTorch is hack/bench/caffenet_torch.py under Debian's python3-torch (`--torch=` empty to skip).

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';

import { initBackend } from '../../trainer/backend/index.js';
import type { DataSource } from '../../trainer/net/data-source.js';
import { externalDataLayers } from '../../trainer/net/from-file.js';
import { Net } from '../../trainer/net/net.js';
import { buildNetSpec } from '../../trainer/net/spec/index.js';
import { Phase, parseNetPrototxt } from '../../trainer/proto/index.js';
import { Rng } from '../../trainer/rng.js';

const here = dirname(fileURLToPath(import.meta.url));
// dist*/hack/bench → the repository, where the prototxt and the Python script live.
const repo = join(here, '..', '..', '..');
const MODEL = 'trainer/models/bvlc_reference_caffenet/train_val.prototxt';
const TORCH_SCRIPT = 'hack/bench/caffenet_torch.py';
const SEED = 1;

/** One row: a backend's speeds per image (step null when its backward pass failed) and peak RSS. */
type BenchRow = {
  backend: string;
  detail: string;
  batch: number;
  forwardMsPerImage: number;
  stepMsPerImage: number | null;
  /** Why the forward-backward pass failed, when it did. */
  failure?: string;
  peakRssMiB: number;
};

const flags = parseFlags(process.argv.slice(2));

if (flags.worker) {
  const result = await runWorker(flags.worker, Number(flags.batch), Number(flags.iterations));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  await main();
}

async function main(): Promise<void> {
  const batch = Number(flags.batch ?? 16);
  const iterations = Number(flags.iterations ?? 3);
  const cpuBatch = Number(flags['cpu-batch'] ?? 1);
  const threads = Number(flags.threads ?? os.availableParallelism());
  const backends = (flags.backends ?? 'tensorflow,wasm,cpu').split(',').filter(Boolean);
  const results: BenchRow[] = [];
  const skipped: string[] = [];
  // Other work on the machine skews every row; the load averages say how much there was.
  const loadBefore = os.loadavg();

  for (const backend of backends) {
    const isCpu = backend === 'cpu';
    const args = [
      fileURLToPath(import.meta.url),
      `--worker=${backend}`,
      `--batch=${isCpu ? cpuBatch : batch}`,
      `--iterations=${isCpu ? 1 : iterations}`,
    ];
    process.stderr.write(`bench: trainer Net on ${backend} at batch ${isCpu ? cpuBatch : batch}...\n`);
    const env = { ...process.env, BREWERY_WASM_THREADS: String(threads) };
    const run = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status === 0 && line.startsWith('{')) results.push(JSON.parse(line) as BenchRow);
    else skipped.push(`${backend}: ${failureOf(run)}`);
  }

  const python = flags.torch ?? '/usr/bin/python3';
  if (python) {
    process.stderr.write(`bench: pytorch at batch ${batch}...\n`);
    const script = join(repo, TORCH_SCRIPT);
    const run = spawnSync(python, [script, String(batch), String(iterations), String(threads)], {
      encoding: 'utf8',
    });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status === 0 && line.startsWith('{')) results.push(JSON.parse(line) as BenchRow);
    else skipped.push(`pytorch: ${failureOf(run)}`);
  }

  const report = {
    date: new Date().toISOString(),
    model: MODEL,
    cores: os.availableParallelism(),
    threads,
    iterations,
    loadAverage: { before: loadBefore, after: os.loadavg() },
    results,
    skipped,
  };
  process.stdout.write(`${formatReport(results, skipped)}\n`);
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  process.stdout.write(`load average before ${load(loadBefore)}, after ${load(report.loadAverage.after)}\n`);
  const out = flags.out ?? join('.brewery', 'bench', 'trainer.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`saved ${out}\n`);
}

/** One backend, in this process: build the net, then time forward and forward-backward passes. */
async function runWorker(backend: string, batch: number, iterations: number): Promise<BenchRow> {
  const info = await initBackend(backend);
  const net = buildCaffeNet(batch);
  try {
    const forward = async () => {
      await net.forward();
    };
    const forwardBackward = async () => {
      for (const gradient of (await net.forwardBackward()).gradients) gradient.dispose();
    };
    const quick = backend === 'cpu';
    const forwardMs = await timed(forward, iterations, !quick);
    // A backend whose backward pass throws still has its forward speed to report.
    let stepMs: number | null = null;
    let failure: string | undefined;
    try {
      stepMs = await timed(forwardBackward, iterations, !quick);
    } catch (error) {
      failure = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    }
    return {
      backend,
      detail: `${info.detail}; trainer Net from ${MODEL}`,
      batch,
      forwardMsPerImage: forwardMs / batch,
      stepMsPerImage: stepMs === null ? null : stepMs / batch,
      ...(failure ? { failure } : {}),
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    net.dispose();
  }
}

/** The table: speeds per image with ratios to PyTorch, each backend's detail, failures and skips. */
function formatReport(rows: BenchRow[], skipped: string[]): string {
  const torch = rows.find((r) => r.backend === 'pytorch');
  const ms = (value: number | null) => (value === null ? 'failed' : value.toFixed(1));
  const ratio = (value: number | null, reference: number | null | undefined) =>
    value !== null && reference ? `${(value / reference).toFixed(2)}x` : '-';
  const table = [
    ['backend', 'batch', 'fwd ms/img', 'fwd+bwd ms/img', 'fwd vs torch', 'fwd+bwd vs torch', 'peak RSS MiB'],
    ...rows.map((r) => [
      r.backend,
      String(r.batch),
      ms(r.forwardMsPerImage),
      ms(r.stepMsPerImage),
      ratio(r.forwardMsPerImage, torch?.forwardMsPerImage),
      ratio(r.stepMsPerImage, torch?.stepMsPerImage),
      r.peakRssMiB.toFixed(0),
    ]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  lines.push('');
  for (const r of rows) lines.push(`${r.backend}: ${r.detail}`);
  for (const r of rows) if (r.failure) lines.push(`${r.backend}: forward-backward failed: ${r.failure}`);
  for (const s of skipped) lines.push(`skipped ${s}`);
  return lines.join('\n');
}

/** CaffeNet's TRAIN net at the given batch size, its Data layer fed one fixed random batch. */
function buildCaffeNet(batch: number): Net {
  const file = join(repo, MODEL);
  const param = parseNetPrototxt(readFileSync(file, 'utf8'), file);
  for (const layer of param.layer ?? []) {
    if (layer.type === 'Data') layer.dataParam = { ...layer.dataParam, batchSize: batch };
  }
  const spec = buildNetSpec(param, { phase: Phase.TRAIN, fileName: file });
  const rng = new Rng(SEED);
  const dataSources: Record<string, DataSource> = {};
  for (const layer of externalDataLayers(spec)) dataSources[layer.name] = fixedBatch(layer.topShapes, rng);
  return Net.fromSpec(spec, { rng, dataSources });
}

/**
 * The same batch every pass: random pixels (mean-subtracted scale) and random labels, made once, so
 * the timings hold no data preparation (Caffe's prefetching hides it too).
 */
function fixedBatch(shapes: number[][], rng: Rng): DataSource {
  const tensors = shapes.map((shape, i) => {
    const values = new Float32Array(shape.reduce((n, d) => n * d, 1));
    for (let k = 0; k < values.length; k++) values[k] = i === 0 ? rng.uniform(-128, 128) : rng.nextInt(1000);
    return tf.keep(tf.tensor(values, shape));
  });
  return { next: async () => tensors.map((t) => tf.clone(t)) };
}

/** Median wall time of `iterations` runs, after one warm-up run unless told otherwise. */
async function timed(run: () => Promise<void>, iterations: number, warmUp: boolean): Promise<number> {
  if (warmUp) await run();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function parseFlags(argv: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const arg of argv) {
    const match = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`bench: expected --name=value flags, received "${arg}"`);
    out[match[1]!] = match[2] ?? '';
  }
  return out;
}

/** Why a child failed: its exit (a signal means a crash) and its error line, else its last lines. */
function failureOf(run: ReturnType<typeof spawnSync>): string {
  const text = String(run.stderr || run.stdout || '').trim();
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !/^\s+at /.test(l));
  const errors = lines.filter((l) => /^(\w*Error\b|Aborted)/.test(l.trim()));
  const exit = run.signal ? `killed by ${run.signal}` : `exit ${run.status}`;
  return `${exit}: ${(errors.length > 0 ? errors : lines.slice(-3)).join(' | ')}`;
}
