// Benchmark of the trainer itself, beside real BVLC Caffe and PyTorch on the same CPU. Nets: CaffeNet
// (trainer/models/bvlc_reference_caffenet/train_val.prototxt, TRAIN phase: dropout and SoftmaxWithLoss
// included) at each --batch, and the mini CaffeNet at its own batch of 32. For each net the runners go
// one after another, round after round (--rounds), so load on the machine falls on all of them alike:
//
//   caffe       real Caffe's `caffe time` (the cached build hack/lib/caffe-reference.ts finds) on the same
//               net, its Data layers replaced by Input layers of the same shapes (below), then `caffe
//               train` on it for its training iteration
//   tensorflow, wasm, cpu   our Net on that backend, each in its own process
//   pytorch     hack/bench/caffenet_torch.py under Debian's python3-torch (CaffeNet only; --torch= skips)
//
// Every runner is its own process, so a row's peak RSS is that runner's alone (caffe's from GNU time).
//
//   node dist/hack/bench/trainer.js [--batch=10,64] [--mini=true] [--iterations=5] [--rounds=1]
//        [--backends=tensorflow,wasm] [--caffe=true] [--torch=/usr/bin/python3] [--threads=N]
//        [--out=.brewery/bench/trainer.json]
//
// Per row, in ms per iteration (one batch), means over --iterations after one warm-up:
//   forward, backward   as `caffe time` reports them: the sums of the per-layer times (ours from
//                       trainer/net/layer-timing.ts, the same code as our `caffe time`)
//   fwd+bwd             Caffe's "Average Forward-Backward" (its total timer; for us forward + backward)
//   tape                ours: Net.forwardBackward as the solver calls it (one tf.variableGrads tape over
//                       the whole net, the loss and outputs read back, every parameter gradient)
//   iteration           ours: one Solver.step(1) with CaffeNet's SGD settings: the batch, the tape, the
//                       update of every parameter and the loss readback, as `caffe train` runs it;
//                       Caffe's: the same from its `caffe train` log (runCaffe)
// PyTorch reports forward and forward-backward only (its own median, per its script).

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';

import { initBackend } from '../../trainer/backend/index.js';
import type { DataSource } from '../../trainer/net/data-source.js';
import { externalDataLayers } from '../../trainer/net/from-file.js';
import { timeLayers, timingPlan } from '../../trainer/net/layer-timing.js';
import { Net } from '../../trainer/net/net.js';
import { buildNetSpec, type NetSpec } from '../../trainer/net/spec/index.js';
import { type NetParameter, Phase, parseNetPrototxt, printNetPrototxt } from '../../trainer/proto/index.js';
import { Rng } from '../../trainer/rng.js';
import { Solver } from '../../trainer/solver/index.js';
import { mallocTuningEnv } from '../../trainer/train/malloc-tuning.js';
import { caffeReference } from '../lib/caffe-reference.js';
import { forwardBackwardFlops } from './net-flops.js';

const here = dirname(fileURLToPath(import.meta.url));
// dist*/hack/bench → the repository, where the prototxts and the Python script live.
const repo = join(here, '..', '..', '..');
const CAFFENET = 'trainer/models/bvlc_reference_caffenet/train_val.prototxt';
const MINI = 'trainer/models/mini_caffenet/train_val.prototxt';
const MINI_BATCH = 32;
const TORCH_SCRIPT = 'hack/bench/caffenet_torch.py';
const SEED = 1;

/** One net at one batch size. */
type Case = { net: 'caffenet' | 'mini_caffenet'; model: string; batch: number };

/** One runner's figures for one case, in ms per iteration; null where a runner has no such figure. */
type BenchRow = {
  runner: string;
  net: string;
  batch: number;
  round: number;
  detail: string;
  forwardMs: number;
  backwardMs: number | null;
  forwardBackwardMs: number | null;
  tapeMs: number | null;
  iterationMs: number | null;
  peakRssMiB: number;
  /** The net's convolution and inner-product arithmetic per forward-backward, in GFLOP (net-flops.ts). */
  gflop: number;
  /** This runner's library at a 2048 x 2048 matrix product, best of three, in GFLOP/s; null for Caffe. */
  matMulGflops: number | null;
  /** Why a part failed, when it did. */
  failure?: string;
};

const flags = parseFlags(process.argv.slice(2));

if (flags.worker) {
  const result = await runWorker(flags.worker, flags.model!, Number(flags.batch), Number(flags.iterations));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  await main();
}

async function main(): Promise<void> {
  const batches = (flags.batch ?? '10,64').split(',').filter(Boolean).map(Number);
  const iterations = Number(flags.iterations ?? 5);
  const rounds = Number(flags.rounds ?? 1);
  const threads = Number(flags.threads ?? os.availableParallelism());
  const backends = (flags.backends ?? 'tensorflow,wasm').split(',').filter(Boolean);
  const withCaffe = (flags.caffe ?? 'true') !== 'false';
  const python = flags.torch ?? '/usr/bin/python3';
  const cases: Case[] = [
    ...batches.map((batch) => ({ net: 'caffenet' as const, model: CAFFENET, batch })),
    ...((flags.mini ?? 'true') !== 'false'
      ? [{ net: 'mini_caffenet' as const, model: MINI, batch: MINI_BATCH }]
      : []),
  ];
  const caffe = withCaffe ? caffeReference() : undefined;
  const scratch = mkdtempSync(join(os.tmpdir(), 'brewery-bench-trainer-'));
  const results: BenchRow[] = [];
  const skipped: string[] = [];
  if (withCaffe && !caffe) skipped.push('caffe: real Caffe is not built (README, "Parity with real Caffe")');
  // Other work on the machine skews every row; the load averages say how much there was.
  const loadBefore = os.loadavg();

  const out = flags.out ?? join('.brewery', 'bench', 'trainer.json');
  const report = () => ({
    date: new Date().toISOString(),
    cores: os.availableParallelism(),
    threads,
    iterations,
    rounds,
    loadAverage: { before: loadBefore, after: os.loadavg() },
    results,
    skipped,
  });
  // Saved after every case too, so a long run that is stopped keeps what it measured.
  const save = () => {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report(), null, 2)}\n`);
  };
  try {
    for (const c of cases) {
      for (let round = 1; round <= rounds; round++) {
        const label = `${c.net} at batch ${c.batch}, round ${round}`;
        if (caffe) {
          process.stderr.write(`bench: real caffe time, ${label}...\n`);
          const row = runCaffe(caffe, c, iterations, scratch);
          if (typeof row === 'string') skipped.push(`caffe (${label}): ${row}`);
          else results.push({ ...row, round, gflop: netGflop(netAtBatch(c).spec), matMulGflops: null });
        }
        for (const backend of backends) {
          process.stderr.write(`bench: ${backend}, ${label}...\n`);
          const args = [
            fileURLToPath(import.meta.url),
            `--worker=${backend}`,
            `--model=${c.model}`,
            `--batch=${c.batch}`,
            `--iterations=${backend === 'cpu' ? 1 : iterations}`,
          ];
          // The malloc settings `caffe train` relaunches itself with (trainer/train/malloc-tuning.ts).
          const tuning = mallocTuningEnv(process.env, process.platform) ?? {};
          const env = { ...process.env, ...tuning, BREWERY_WASM_THREADS: String(threads) };
          const run = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
          const line = run.stdout.trim().split('\n').pop() ?? '';
          if (run.status === 0 && line.startsWith('{'))
            results.push({ ...(JSON.parse(line) as BenchRow), round });
          else skipped.push(`${backend} (${label}): ${failureOf(run)}`);
        }
        if (python && c.net === 'caffenet') {
          process.stderr.write(`bench: pytorch, ${label}...\n`);
          const row = runTorch(python, c, iterations, threads);
          if (typeof row === 'string') skipped.push(`pytorch (${label}): ${row}`);
          else results.push({ ...row, round, gflop: netGflop(netAtBatch(c).spec), matMulGflops: null });
        }
        save();
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const final = report();
  process.stdout.write(`${formatReport(results, skipped)}\n`);
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  process.stdout.write(`load average before ${load(loadBefore)}, after ${load(final.loadAverage.after)}\n`);
  save();
  process.stdout.write(`saved ${out}\n`);
}

/**
 * Real Caffe's `caffe time` on the case's net. Its Data layers read an LMDB, which a benchmark has no
 * need of: each is replaced by an Input layer whose tops have the shapes our Net gives that layer
 * (batch x channels x crop x crop, and the labels), so Caffe times the same layers on blobs of the same
 * size. Input leaves its blobs as allocated (zeros); dense BLAS takes as long on zeros as on pixels.
 */
function runCaffe(
  caffe: NonNullable<ReturnType<typeof caffeReference>>,
  c: Case,
  iterations: number,
  scratch: string,
): Omit<BenchRow, 'round' | 'gflop' | 'matMulGflops'> | string {
  const { param, spec } = netAtBatch(c);
  const shapes = new Map(externalDataLayers(spec).map((l) => [l.name, l.topShapes]));
  // The spec's layers are the TRAIN phase's, as `caffe time` filters them (the TEST Data layer is gone).
  const layers = spec.layers.map(({ param: layer }) => {
    const topShapes = shapes.get(layer.name ?? '');
    if (layer.type !== 'Data' || !topShapes) return layer;
    return {
      name: layer.name,
      type: 'Input',
      top: layer.top,
      inputParam: { shape: topShapes.map((dim) => ({ dim })) },
    };
  });
  const model = join(scratch, `${c.net}-${c.batch}.prototxt`);
  writeFileSync(model, printNetPrototxt({ ...param, layer: layers } as NetParameter));
  const rssFile = join(scratch, 'caffe-rss');
  // GNU time writes the child's peak RSS (KiB) to its own file, apart from glog's stderr.
  const run = spawnSync(
    '/usr/bin/time',
    ['-o', rssFile, '-f', '%M', 'caffe', 'time', `-model=${model}`, `-iterations=${iterations}`],
    { env: caffe.env, encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (run.status !== 0) return failureOf(run);
  const average = (label: string) => {
    const match = new RegExp(`Average ${label}: ([0-9.e+-]+) ms`).exec(run.stderr);
    if (!match) throw new Error(`caffe time printed no "Average ${label}" line:\n${run.stderr.slice(-2000)}`);
    return Number(match[1]);
  };
  const timeRss = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024;
  // Its training iteration: `caffe train` on the same net with CaffeNet's SGD settings, display: 1. Each
  // "Iteration N (..., Ts/1 iters)" line times the stretch since the previous one: that iteration's update
  // and the next forward-backward. Iteration 0's stretch holds the start-up and is left out.
  const solverFile = join(scratch, `${c.net}-${c.batch}.solver.prototxt`);
  writeFileSync(
    solverFile,
    [
      `net: "${model}"`,
      'base_lr: 0.01',
      'lr_policy: "fixed"',
      'momentum: 0.9',
      'weight_decay: 0.0005',
      `max_iter: ${iterations + 1}`,
      'display: 1',
      'snapshot_after_train: false',
      'solver_mode: CPU',
      '',
    ].join('\n'),
  );
  const train = spawnSync(
    '/usr/bin/time',
    ['-o', rssFile, '-f', '%M', 'caffe', 'train', `-solver=${solverFile}`],
    {
      env: caffe.env,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    },
  );
  let iterationMs: number | null = null;
  if (train.status === 0) {
    const lapses = [...train.stderr.matchAll(/Iteration (\d+) \([^,]+ iter\/s, ([0-9.e+-]+)s\/1 iters\)/g)]
      .filter((m) => Number(m[1]) > 0)
      .map((m) => Number(m[2]) * 1000);
    if (lapses.length > 0) iterationMs = mean(lapses);
  }
  const trainRss =
    train.status === 0 ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024 : 0;
  const version = /caffe-ref\/([^/]+)\//.exec(caffe.env.PATH ?? '')?.[1];
  return {
    runner: 'caffe',
    net: c.net,
    batch: c.batch,
    detail: `BVLC Caffe${version ? ` build ${version}` : ''}, CPU, \`caffe time\` with Input layers for Data`,
    forwardMs: average('Forward pass'),
    backwardMs: average('Backward pass'),
    forwardBackwardMs: average('Forward-Backward'),
    tapeMs: null,
    iterationMs,
    peakRssMiB: Math.max(timeRss, trainRss),
    ...(train.status === 0 ? {} : { failure: `caffe train: ${failureOf(train)}` }),
  };
}

/** PyTorch's CaffeNet (hack/bench/caffenet_torch.py), its per-image figures made per-batch. */
function runTorch(
  python: string,
  c: Case,
  iterations: number,
  threads: number,
): Omit<BenchRow, 'round' | 'gflop' | 'matMulGflops'> | string {
  const script = join(repo, TORCH_SCRIPT);
  const run = spawnSync(python, [script, String(c.batch), String(iterations), String(threads)], {
    encoding: 'utf8',
  });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !line.startsWith('{')) return failureOf(run);
  const torch = JSON.parse(line) as {
    detail: string;
    forwardMsPerImage: number;
    stepMsPerImage: number;
    peakRssMiB: number;
  };
  return {
    runner: 'pytorch',
    net: c.net,
    batch: c.batch,
    detail: torch.detail,
    forwardMs: torch.forwardMsPerImage * c.batch,
    backwardMs: null,
    forwardBackwardMs: torch.stepMsPerImage * c.batch,
    tapeMs: null,
    iterationMs: null,
    peakRssMiB: torch.peakRssMiB,
  };
}

/** One backend, in this process: `caffe time`'s per-layer passes, the solver's tape, a training step. */
async function runWorker(
  backend: string,
  model: string,
  batch: number,
  iterations: number,
): Promise<Omit<BenchRow, 'round'>> {
  const info = await initBackend(backend);
  const c: Case = { net: model === MINI ? 'mini_caffenet' : 'caffenet', model, batch };
  const { param, spec } = netAtBatch(c);
  const rng = new Rng(SEED);
  // Labels below the last InnerProduct's num_output (1000 for CaffeNet, 10 for the mini one).
  const classes = (param.layer ?? []).filter((l) => l.type === 'InnerProduct').at(-1)
    ?.innerProductParam?.numOutput;
  const dataSources: Record<string, DataSource> = {};
  for (const layer of externalDataLayers(spec))
    dataSources[layer.name] = fixedBatch(layer.topShapes, rng, classes ?? 1);
  const net = Net.fromSpec(spec, { rng, dataSources });
  const warmUp = backend !== 'cpu';
  const failures: string[] = [];
  const attempt = async <T>(part: string, run: () => Promise<T>): Promise<T | null> => {
    try {
      return await run();
    } catch (error) {
      failures.push(`${part}: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`);
      return null;
    }
  };
  try {
    // `caffe time`: per-layer forward and backward times, summed per iteration, averaged.
    const plan = timingPlan(net);
    const passes: { forward: number; backward: number }[] = [];
    const layerPasses = await attempt('per-layer passes', async () => {
      for (let i = 0; i < iterations + (warmUp ? 1 : 0); i++) {
        await net.loadBatches();
        const times = timeLayers(net, plan, () => performance.now());
        if (i > 0 || !warmUp) passes.push({ forward: sum(times.forward), backward: sum(times.backward) });
      }
      return passes;
    });
    const tapeMs = await attempt('tape', () =>
      meanMs(iterations, warmUp, async () => {
        for (const gradient of (await net.forwardBackward()).gradients) gradient.dispose();
      }),
    );
    const solver = new Solver({
      params: net.learnableParams(),
      // CaffeNet's solver.prototxt: SGD, momentum 0.9, weight_decay 0.0005; no display, test or snapshot.
      param: {
        type: 'SGD',
        baseLr: 0.01,
        lrPolicy: 'fixed',
        momentum: 0.9,
        weightDecay: 0.0005,
        maxIter: 1 << 30,
      },
      trainNet: { name: c.net, forwardBackward: () => net.forwardBackward(), forward: () => net.forward() },
    });
    const iterationMs = await attempt('training iteration', () =>
      meanMs(iterations, warmUp, () => solver.step(1)),
    );
    solver.dispose();
    const matMulGflops = await attempt('matrix product rate', async () => matMulRate());
    const forwardMs = layerPasses ? mean(layerPasses.map((p) => p.forward)) : Number.NaN;
    const backwardMs = layerPasses ? mean(layerPasses.map((p) => p.backward)) : null;
    return {
      runner: backend,
      net: c.net,
      batch,
      detail: info.detail,
      forwardMs,
      backwardMs,
      forwardBackwardMs: backwardMs === null ? null : forwardMs + backwardMs,
      tapeMs,
      iterationMs,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      gflop: netGflop(spec),
      matMulGflops,
      ...(failures.length > 0 ? { failure: failures.join('; ') } : {}),
    };
  } finally {
    net.dispose();
  }
}

function netGflop(spec: NetSpec): number {
  const { forward, backward } = forwardBackwardFlops(spec);
  return (forward + backward) / 1e9;
}

/**
 * The backend's rate at one large square matrix product (2·n³ operations), best of three after a warm-up:
 * about the most arithmetic per second its library gets on this machine, convolutions being matrix
 * products inside. Measured after the net's runs, so it does not change their timings.
 */
function matMulRate(n = 2048): number {
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 4; i++) {
    const start = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    const elapsed = performance.now() - start;
    c.dispose();
    if (i > 0) best = Math.min(best, elapsed);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

/** The case's NetParameter with every Data layer's batch_size set, and its TRAIN-phase spec. */
function netAtBatch(c: Case): { param: NetParameter; spec: NetSpec } {
  const file = join(repo, c.model);
  const param = parseNetPrototxt(readFileSync(file, 'utf8'), file);
  for (const layer of param.layer ?? []) {
    if (layer.type === 'Data') layer.dataParam = { ...layer.dataParam, batchSize: c.batch };
  }
  return { param, spec: buildNetSpec(param, { phase: Phase.TRAIN, fileName: file }) };
}

/**
 * The same batch every pass: random pixels (mean-subtracted scale) and random labels, made once, so
 * the timings hold no data preparation (Caffe's prefetching hides it too).
 */
function fixedBatch(shapes: number[][], rng: Rng, classes: number): DataSource {
  const tensors = shapes.map((shape, i) => {
    const values = new Float32Array(shape.reduce((n, d) => n * d, 1));
    for (let k = 0; k < values.length; k++)
      values[k] = i === 0 ? rng.uniform(-128, 128) : rng.nextInt(classes);
    return tf.keep(tf.tensor(values, shape));
  });
  return { next: async () => tensors.map((t) => tf.clone(t)) };
}

/** The table: one line per runner and case (rounds averaged), ratios against real Caffe. */
function formatReport(rows: BenchRow[], skipped: string[]): string {
  const groups = new Map<string, BenchRow[]>();
  for (const r of rows) {
    const key = `${r.net}\t${r.batch}\t${r.runner}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const avg = (list: BenchRow[], pick: (r: BenchRow) => number | null) => {
    const values = list.map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
    return values.length === list.length && values.length > 0 ? mean(values) : null;
  };
  const ms = (value: number | null) => (value === null ? '-' : value.toFixed(0));
  const rate = (list: BenchRow[]) => avg(list, (r) => r.matMulGflops);
  const ratio = (value: number | null, reference: number | null) =>
    value !== null && reference ? `${(value / reference).toFixed(2)}x` : '-';
  const table = [
    [
      'net',
      'batch',
      'runner',
      'fwd ms',
      'bwd ms',
      'fwd+bwd ms',
      'tape ms',
      'iteration ms',
      'iter/(fwd+bwd)',
      'fwd+bwd vs caffe',
      'iteration vs caffe',
      'GFLOP/s',
      'matMul GFLOP/s',
      'peak RSS MiB',
    ],
  ];
  for (const [key, list] of groups) {
    const [net, batch, runner] = key.split('\t') as [string, string, string];
    const caffe = groups.get(`${net}\t${batch}\tcaffe`);
    const caffeFb = caffe ? avg(caffe, (r) => r.forwardBackwardMs) : null;
    const caffeIteration = caffe ? avg(caffe, (r) => r.iterationMs) : null;
    const fb = avg(list, (r) => r.forwardBackwardMs);
    const iteration = avg(list, (r) => r.iterationMs);
    table.push([
      net,
      batch,
      runner,
      ms(avg(list, (r) => r.forwardMs)),
      ms(avg(list, (r) => r.backwardMs)),
      ms(fb),
      ms(avg(list, (r) => r.tapeMs)),
      ms(iteration),
      ratio(iteration, fb),
      runner === 'caffe' ? '1.00x' : ratio(fb, caffeFb),
      runner === 'caffe' ? '1.00x' : ratio(iteration, caffeIteration),
      fb === null ? '-' : (list[0]!.gflop / (fb / 1000)).toFixed(1),
      rate(list) === null ? '-' : rate(list)!.toFixed(1),
      Math.max(...list.map((r) => r.peakRssMiB)).toFixed(0),
    ]);
  }
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  lines.push('');
  // The fastest a forward-backward could be: all of its convolution and inner-product arithmetic at the
  // runner's own matrix-product rate, nothing else costing anything.
  for (const [key, list] of groups) {
    const [net, batch, runner] = key.split('\t') as [string, string, string];
    const peak = rate(list);
    if (peak === null) continue;
    const floorMs = (list[0]!.gflop / peak) * 1000;
    const caffe = groups.get(`${net}\t${batch}\tcaffe`);
    const caffeFb = caffe ? avg(caffe, (r) => r.forwardBackwardMs) : null;
    const against = caffeFb ? ` = ${(floorMs / caffeFb).toFixed(2)}x Caffe's measured fwd+bwd` : '';
    lines.push(
      `${net} at batch ${batch}: ${list[0]!.gflop.toFixed(2)} GFLOP per fwd+bwd; ${runner} at its matMul rate ` +
        `could do it in ${floorMs.toFixed(0)} ms at best${against}`,
    );
  }
  lines.push('');
  const details = new Map(rows.map((r) => [r.runner, r.detail]));
  for (const [runner, detail] of details) lines.push(`${runner}: ${detail}`);
  for (const r of rows)
    if (r.failure) lines.push(`${r.runner} (${r.net} at ${r.batch}): failed: ${r.failure}`);
  for (const s of skipped) lines.push(`skipped ${s}`);
  return lines.join('\n');
}

/** Mean wall time of `iterations` runs, after one warm-up run unless told otherwise. */
async function meanMs(iterations: number, warmUp: boolean, run: () => Promise<unknown>): Promise<number> {
  if (warmUp) await run();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return mean(times);
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function mean(xs: readonly number[]): number {
  return sum(xs) / xs.length;
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
  const errors = lines.filter((l) => /^(\w*Error\b|Aborted|F\d{4})/.test(l.trim()));
  const exit = run.signal ? `killed by ${run.signal}` : `exit ${run.status}`;
  return `${exit}: ${(errors.length > 0 ? errors : lines.slice(-3)).join(' | ')}`;
}
