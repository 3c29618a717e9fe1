// The measuring half of hack/gpu/check (run it through that script, which provisions first):
//   1. `caffe time` on BVLC CaffeNet (train_val, batch 256) beside the Caffe tutorial's K40 figures;
//   2. MiniCaffeNet trained on a generated sample ImageNet, uninterrupted and again with a SIGTERM half-way
//      (the trainer snapshots and exits) and a resume from that snapshot; the two final weights compared;
//   3. a table of all of it, also written as JSON under .brewery/gpu-check/.
// --cpu runs a smaller version of each (batch 8, 2 timing iterations, 40 training iterations) for a
// machine without a GPU, where CaffeNet at batch 256 would take many minutes per iteration.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

import type { Manifest } from '../../trainer/data/finalize.js';
import { decodeNetParameter, Phase, parseNetPrototxt, printNetPrototxt } from '../../trainer/proto/index.js';
import { generateSampleImagenet } from '../sample-imagenet.js';

const run = promisify(execFile);
const repo = resolve(fileURLToPath(import.meta.url), '../../../..');
const caffeMain = join(repo, 'dist/trainer/cli/main.js');

// The tutorial's figures for CaffeNet on a K40 (Caffe's "Performance and hardware" notes for the
// reference model: 20 iterations of batch 256 in about 26.5 s; 5.2 ms per image forward-backward, 2 ms
// forward).
const K40 = { fwdBwdMsPerImage: 5.2, fwdMsPerImage: 2, secondsPer20Iterations: 26.5 };

export interface CheckOptions {
  cpu: boolean;
  backend: string;
}

export function plan(options: CheckOptions) {
  return options.cpu
    ? { batch: 8, timeIterations: 2, trainIterations: 40, interruptAfter: 20 }
    : { batch: 256, timeIterations: 20, trainIterations: 200, interruptAfter: 100 };
}

/** Reads `caffe time`'s summary lines (Caffe's caffe.cpp wording). */
export function parseTimeLog(stderr: string): { forwardMs: number; backwardMs: number; fwdBwdMs: number } {
  const figure = (label: string) => {
    const match = new RegExp(`${label}: ([0-9.e+-]+) ms\\.`).exec(stderr);
    if (!match) throw new Error(`caffe time printed no "${label}" line:\n${stderr.slice(-2000)}`);
    return Number(match[1]);
  };
  return {
    forwardMs: figure('Average Forward pass'),
    backwardMs: figure('Average Backward pass'),
    fwdBwdMs: figure('Average Forward-Backward'),
  };
}

/** The largest absolute difference between two caffemodels' blobs, layer by layer. */
export function maxWeightDifference(a: Uint8Array, b: Uint8Array): { blobs: number; maxAbs: number } {
  const layersOf = (bytes: Uint8Array) => decodeNetParameter(bytes).layer ?? [];
  const [left, right] = [layersOf(a), layersOf(b)];
  if (left.length !== right.length) throw new Error(`${left.length} layers against ${right.length}`);
  let blobs = 0;
  let maxAbs = 0;
  left.forEach((layer, l) => {
    (layer.blobs ?? []).forEach((blob, k) => {
      const other = right[l]?.blobs?.[k];
      const [x, y] = [blob.data ?? [], other?.data ?? []];
      if (x.length !== y.length) throw new Error(`layer ${layer.name} blob ${k}: sizes differ`);
      for (let i = 0; i < x.length; i++) maxAbs = Math.max(maxAbs, Math.abs(x[i]! - y[i]!));
      blobs++;
    });
  });
  return { blobs, maxAbs };
}

function caffe(args: string[], cwd: string): Promise<string> {
  return run(process.execPath, [caffeMain, ...args], { cwd, maxBuffer: 256 << 20 }).then(
    ({ stderr }) => stderr,
    (error: { stderr?: string }) => {
      const lines = (error.stderr ?? '').split('\n').filter((l) => l.trim() && !/^\s+at /.test(l));
      throw new Error(`caffe ${args.join(' ')} failed:\n${lines.slice(-8).join('\n')}`);
    },
  );
}

type Layer = NonNullable<ReturnType<typeof parseNetPrototxt>['layer']>[number];

/** A model's prototxt with its layers edited (batch size, data sources). */
function renderNet(file: string, edit: (layer: Layer) => void): string {
  const net = parseNetPrototxt(readFileSync(file, 'utf8'), file);
  for (const layer of net.layer ?? []) edit(layer);
  return printNetPrototxt(net);
}

async function timeCaffeNet(dir: string, options: CheckOptions, log: string[]) {
  const { batch, timeIterations } = plan(options);
  const net = renderNet(join(repo, 'trainer/models/bvlc_reference_caffenet/train_val.prototxt'), (layer) => {
    if (layer.type === 'Data' && layer.dataParam) layer.dataParam = { ...layer.dataParam, batchSize: batch };
  });
  await writeFile(join(dir, 'caffenet.prototxt'), net);
  const started = performance.now();
  const stderr = await caffe(
    [
      'time',
      '--model=caffenet.prototxt',
      `--iterations=${timeIterations}`,
      `--backend=${options.backend}`,
      '--data-shape=3,256,256',
    ],
    dir,
  );
  const wallS = (performance.now() - started) / 1000;
  log.push(...stderr.split('\n').filter((l) => /Using backend|GPU|forward-backward time|Average/.test(l)));
  const figures = parseTimeLog(stderr);
  return {
    batch,
    iterations: timeIterations,
    wallS,
    ...figures,
    fwdBwdMsPerImage: figures.fwdBwdMs / batch,
    fwdMsPerImage: figures.forwardMs / batch,
    secondsPer20Iterations: (figures.fwdBwdMs * 20) / 1000,
    backendLine: stderr.split('\n').find((l) => l.includes('Using backend')) ?? '',
  };
}

/** Trains until `caffe train` has logged iteration `after`, then sends SIGTERM; resolves with its log. */
function trainInterrupted(
  args: string[],
  cwd: string,
  after: number,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child: ChildProcess = spawn(process.execPath, [caffeMain, ...args], { cwd });
    let stderr = '';
    let sent = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const seen = [...stderr.matchAll(/Iteration (\d+) \(/g)].map((m) => Number(m[1]));
      if (!sent && seen.some((i) => i >= after)) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    child.on('close', (code) => done({ code, stderr }));
  });
}

async function trainMiniCaffeNet(dir: string, options: CheckOptions) {
  const { trainIterations, interruptAfter } = plan(options);
  const sample = await generateSampleImagenet({
    out: join(dir, 'sample'),
    classes: 4,
    perClass: 40,
    valPerClass: 10,
    seed: 3,
    width: 80,
    height: 64,
    brokenPerKind: 0,
  });
  const dataset = join(dir, 'dataset');
  await caffe(
    [
      'imagenet',
      'prep',
      `--train=${sample.train}`,
      `--val=${sample.val}`,
      `--val-labels=${sample.valLabels}`,
      `--words=${sample.words}`,
      `--out=${dataset}`,
      '--size=64',
    ],
    dir,
  );
  await caffe(['imagenet', 'finalize', `--out=${dataset}`], dir);
  const manifest = JSON.parse(await readFile(join(dataset, 'manifest.json'), 'utf8')) as Manifest;
  const net = renderNet(join(repo, 'trainer/models/mini_caffenet/train_val.prototxt'), (layer) => {
    if (layer.type !== 'Data') return;
    const test = layer.include?.[0]?.phase === Phase.TEST;
    layer.dataParam = {
      ...layer.dataParam,
      source: join(dataset, test ? 'val' : 'train'),
      ...(test ? { batchSize: manifest.splits.val!.records } : {}),
    };
    layer.transformParam = { ...layer.transformParam, meanFile: join(dataset, 'mean.binaryproto') };
  });
  await writeFile(join(dir, 'mini.prototxt'), net);
  const solver = (prefix: string) =>
    `net: "mini.prototxt"\ntest_iter: 1\ntest_interval: ${trainIterations}\nbase_lr: 0.002\nlr_policy: "fixed"\n` +
    `momentum: 0.9\nweight_decay: 0.0005\ndisplay: 10\nmax_iter: ${trainIterations}\nsnapshot: ${trainIterations}\n` +
    `snapshot_prefix: "${prefix}"\nrandom_seed: 1\n`;
  await mkdir(join(dir, 'snapshots'));
  await writeFile(join(dir, 'steady.prototxt'), solver('snapshots/steady'));
  await writeFile(join(dir, 'interrupted.prototxt'), solver('snapshots/interrupted'));
  const backend = `--backend=${options.backend}`;

  let started = performance.now();
  const steadyLog = await caffe(['train', '--solver=steady.prototxt', backend], dir);
  const steadyS = (performance.now() - started) / 1000;

  started = performance.now();
  const stopped = await trainInterrupted(
    ['train', '--solver=interrupted.prototxt', backend],
    dir,
    interruptAfter,
  );
  if (stopped.code !== 0)
    throw new Error(`the interrupted run exited ${stopped.code}:\n${stopped.stderr.slice(-2000)}`);
  const snapshot = [...stopped.stderr.matchAll(/Snapshotting solver state to binary proto file (\S+)/g)].at(
    -1,
  )?.[1];
  if (!snapshot) throw new Error(`the interrupted run wrote no solverstate:\n${stopped.stderr.slice(-2000)}`);
  const stoppedAt = Number(/_iter_(\d+)\.solverstate$/.exec(snapshot)?.[1]);
  await caffe(['train', '--solver=interrupted.prototxt', `--snapshot=${snapshot}`, backend], dir);
  const interruptedS = (performance.now() - started) / 1000;

  const final = (name: string) =>
    readFile(join(dir, 'snapshots', `${name}_iter_${trainIterations}.caffemodel`));
  const difference = maxWeightDifference(await final('steady'), await final('interrupted'));
  const losses = [...steadyLog.matchAll(/Iteration (\d+) \(.*\), loss = ([0-9.e+-]+)/g)];
  return {
    iterations: trainIterations,
    steadyS,
    interruptedS,
    stoppedAt,
    firstLoss: Number(losses[0]?.[2]),
    lastLoss: Number(losses.at(-1)?.[2]),
    ...difference,
  };
}

async function main() {
  const { values } = parseArgs({
    options: { cpu: { type: 'boolean', default: false }, backend: { type: 'string', default: 'tensorflow' } },
  });
  const options: CheckOptions = { cpu: values.cpu ?? false, backend: values.backend ?? 'tensorflow' };
  const dir = await mkdtemp(join(tmpdir(), 'gpu-check-'));
  const log: string[] = [];
  try {
    const timing = await timeCaffeNet(dir, options, log);
    process.stderr.write(`${log.join('\n')}\n`);
    const training = await trainMiniCaffeNet(dir, options);
    const ratio = (ours: number, k40: number) => `${(ours / k40).toFixed(2)}x the K40's`;
    const rows: [string, string, string][] = [
      [
        'backend',
        // "tensorflow: <package> from <folder>, libtensorflow 2.20.0[, no GPU found: ...]" less the folder
        timing.backendLine.replace(/^.*Using backend /, '').replace(/ from [^,]*/, ''),
        '',
      ],
      [
        `CaffeNet fwd-bwd, batch ${timing.batch}`,
        `${timing.fwdBwdMsPerImage.toFixed(2)} ms/image`,
        `K40: ${K40.fwdBwdMsPerImage} ms/image (${ratio(timing.fwdBwdMsPerImage, K40.fwdBwdMsPerImage)})`,
      ],
      [
        'CaffeNet forward',
        `${timing.fwdMsPerImage.toFixed(2)} ms/image`,
        `K40: ${K40.fwdMsPerImage} ms/image (${ratio(timing.fwdMsPerImage, K40.fwdMsPerImage)})`,
      ],
      [
        'CaffeNet 20 iterations',
        `${timing.secondsPer20Iterations.toFixed(1)} s at batch ${timing.batch}`,
        `K40: ${K40.secondsPer20Iterations} s at batch 256`,
      ],
      [
        `MiniCaffeNet ${training.iterations} iterations`,
        `${training.steadyS.toFixed(1)} s`,
        `loss ${training.firstLoss.toFixed(3)} -> ${training.lastLoss.toFixed(3)}`,
      ],
      [
        'SIGTERM, snapshot, resume',
        `${training.interruptedS.toFixed(1)} s`,
        `stopped at iteration ${training.stoppedAt}`,
      ],
      [
        'resumed vs uninterrupted weights',
        training.maxAbs === 0 ? 'identical' : `max |diff| ${training.maxAbs.toExponential(2)}`,
        `${training.blobs} blobs`,
      ],
    ];
    const width = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: string[]) => r.map((cell, c) => cell.padEnd(width[c]!)).join(' | ');
    process.stdout.write(
      `${line(['check', 'measured', 'reference'])}\n${width.map((w) => '-'.repeat(w)).join('-|-')}\n`,
    );
    for (const r of rows) process.stdout.write(`${line(r)}\n`);
    const out = join(repo, '.brewery', 'gpu-check');
    await mkdir(out, { recursive: true });
    const file = join(out, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify({ options, timing, training, k40: K40 }, null, 2)}\n`);
    process.stdout.write(`saved ${file}\n`);
    // On a GPU the resumed run may differ in the last bits (cuDNN picks kernels per run); on the CPU the
    // trainer resumes exactly, as test/integration/operator/training.test.ts asserts.
    const tolerance = options.cpu ? 0 : 1e-3;
    if (training.maxAbs > tolerance) {
      process.stderr.write(`FAILED: resumed weights differ by ${training.maxAbs} (more than ${tolerance})\n`);
      process.exitCode = 1;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
