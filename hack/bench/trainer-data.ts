// Benchmark of training with its data: `caffe train` on CaffeNet's train_val reading an LMDB of 256x256
// JPEG records (Data layer: decode, random 227 crop, mirror, mean subtraction, as the tutorial's), on
// each backend, beside real BVLC Caffe's `caffe train` on the same files. What it shows is whether
// training waits for data: our trainer's "Waiting for data: P% of N iterations" lines (the share of the
// interval spent waiting for the loader, trainer/train/data-wait.ts) and the seconds per iteration of
// both tools from their "Iteration N (..., Ts/K iters)" lines. The first display interval holds the
// start-up and is left out.
//
//   node dist/hack/bench/trainer-data.js [--batch=10] [--iterations=30] [--display=10] [--images=256]
//        [--backends=tensorflow,wasm] [--caffe=true] [--out=.brewery/bench/trainer-data.json]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { parseNetPrototxt, printNetPrototxt } from '../../trainer/proto/index.js';
import { caffeReference } from '../lib/caffe-reference.js';
import { writeJpegLmdb } from './jpeg-lmdb.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const CAFFENET = join(repo, 'trainer/models/bvlc_reference_caffenet/train_val.prototxt');
const CLI = join(here, '..', '..', 'trainer', 'cli', 'main.js');

interface Row {
  runner: string;
  batch: number;
  /** Mean seconds per iteration over the display intervals after the first. */
  secondsPerIteration: number | null;
  /** Our trainer only: the share of those intervals spent waiting for data. */
  dataWaitShare: number | null;
  /** Real Caffe only: how many times its data layer found no prefetched batch ("Waiting for data"). */
  caffeWaits: number | null;
  peakRssMiB: number | null;
  failure?: string;
}

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '10' },
    iterations: { type: 'string', default: '30' },
    display: { type: 'string', default: '10' },
    images: { type: 'string', default: '256' },
    backends: { type: 'string', default: 'tensorflow,wasm' },
    caffe: { type: 'string', default: 'true' },
    out: { type: 'string', default: '.brewery/bench/trainer-data.json' },
  },
});
const batch = Number(values.batch);
const display = Number(values.display);
const iterations = Number(values.iterations);

const work = mkdtempSync(join(os.tmpdir(), 'brewery-bench-trainer-data-'));
const loadBefore = os.loadavg();
const rows: Row[] = [];
try {
  const solverFile = await prepare(work);
  if (values.caffe !== 'false') {
    const caffe = caffeReference();
    if (caffe) rows.push(runCaffe(caffe.env, solverFile));
    else process.stderr.write('bench: real Caffe is not built; its row is left out\n');
  }
  for (const backend of values.backends.split(',').filter(Boolean)) rows.push(runOurs(backend, solverFile));
} finally {
  rmSync(work, { recursive: true, force: true });
}

const cell = (v: number | null, digits: number, scale = 1) =>
  v === null ? '-' : (v * scale).toFixed(digits);
const table = [
  ['runner', 'batch', 's/iteration', 'waiting for data', 'caffe waits', 'peak RSS MiB'],
  ...rows.map((r) => [
    r.runner,
    String(r.batch),
    cell(r.secondsPerIteration, 3),
    r.dataWaitShare === null ? '-' : `${(r.dataWaitShare * 100).toFixed(1)}%`,
    cell(r.caffeWaits, 0),
    cell(r.peakRssMiB, 0),
  ]),
];
const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
for (const row of table)
  console.log(
    row
      .map((v, c) => v.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
for (const r of rows) if (r.failure) console.log(`${r.runner}: failed: ${r.failure}`);
const loadAfter = os.loadavg();
const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
console.log(`load average before ${load(loadBefore)}, after ${load(loadAfter)}`);
mkdirSync(dirname(values.out), { recursive: true });
const report = {
  date: new Date().toISOString(),
  cores: os.availableParallelism(),
  batch,
  iterations,
  display,
  images: Number(values.images),
  loadAverage: { before: loadBefore, after: loadAfter },
  rows,
};
writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`saved ${values.out}`);

/** An LMDB of 256x256 JPEG records, a flat mean, CaffeNet's train_val reading them, and its solver's path. */
async function prepare(dir: string): Promise<string> {
  const { lmdb, meanFile } = await writeJpegLmdb(dir, Number(values.images));
  // The tutorial's train_val with its TRAIN Data layer pointed at these files; the TEST net is not built
  // (no test_iter), as in real Caffe.
  const net = parseNetPrototxt(readFileSync(CAFFENET, 'utf8'), CAFFENET);
  for (const layer of net.layer ?? []) {
    if (layer.type !== 'Data') continue;
    layer.dataParam = { ...layer.dataParam, source: lmdb, batchSize: batch };
    layer.transformParam = { ...layer.transformParam, meanFile };
  }
  const netFile = join(dir, 'train_val.prototxt');
  writeFileSync(netFile, printNetPrototxt(net));
  const solverFile = join(dir, 'solver.prototxt');
  writeFileSync(
    solverFile,
    [
      `net: "${netFile}"`,
      'base_lr: 0.01',
      'lr_policy: "fixed"',
      'momentum: 0.9',
      'weight_decay: 0.0005',
      `max_iter: ${iterations}`,
      `display: ${display}`,
      'snapshot_after_train: false',
      'random_seed: 1',
      'solver_mode: CPU',
      '',
    ].join('\n'),
  );
  return solverFile;
}

/** Seconds per iteration from "Iteration N (x iter/s, Ts/K iters)" lines, the first interval left out. */
function secondsPerIteration(log: string): number | null {
  const lapses = [...log.matchAll(/Iteration (\d+) \([^,]+ iter\/s, ([0-9.e+-]+)s\/(\d+) iters\)/g)]
    .filter((m) => Number(m[1]) >= display)
    .map((m) => Number(m[2]) / Number(m[3]));
  return lapses.length > 0 ? lapses.reduce((a, b) => a + b, 0) / lapses.length : null;
}

function timed(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const rssFile = join(work, 'rss.txt');
  const run = spawnSync('/usr/bin/time', ['-o', rssFile, '-f', '%M', command, ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  let peakRssMiB: number | null = null;
  try {
    peakRssMiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024;
  } catch {}
  return { run, peakRssMiB };
}

function runCaffe(env: NodeJS.ProcessEnv, solverFile: string): Row {
  process.stderr.write('bench: real caffe train...\n');
  const { run, peakRssMiB } = timed('caffe', ['train', `-solver=${solverFile}`], env);
  return {
    runner: 'caffe',
    batch,
    secondsPerIteration: secondsPerIteration(run.stderr),
    dataWaitShare: null,
    caffeWaits: (run.stderr.match(/Waiting for data/g) ?? []).length,
    peakRssMiB,
    ...(run.status === 0 ? {} : { failure: run.stderr.slice(-600) }),
  };
}

function runOurs(backend: string, solverFile: string): Row {
  process.stderr.write(`bench: caffe train on ${backend}...\n`);
  const { run, peakRssMiB } = timed(
    process.execPath,
    [CLI, 'train', `--solver=${solverFile}`, `--backend=${backend}`],
    process.env,
  );
  // "Waiting for data: P% of N iterations (w s of t s)", one per display; the first holds the start-up.
  const intervals = [
    ...run.stderr.matchAll(/Waiting for data: [0-9.]+% of (\d+) iterations? \(([0-9.]+) s of ([0-9.]+) s\)/g),
  ].slice(1);
  const wait = intervals.reduce((a, m) => a + Number(m[2]), 0);
  const total = intervals.reduce((a, m) => a + Number(m[3]), 0);
  return {
    runner: backend,
    batch,
    secondsPerIteration: secondsPerIteration(run.stderr),
    dataWaitShare: total > 0 ? wait / total : null,
    caffeWaits: null,
    peakRssMiB,
    ...(run.status === 0 ? {} : { failure: run.stderr.slice(-600) }),
  };
}
