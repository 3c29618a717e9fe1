// `caffe train` as a user runs it: the built program in a subprocess, in a folder holding a tiny net and
// solver (relative paths, as Caffe resolves them against the current directory). Exact resume and
// SIGTERM run on every backend we have: cpu, wasm, and native TensorFlow when `npm run setup:native`
// has provisioned it (skipped with the reason otherwise); the rest, which no backend changes, on cpu.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';

import { nativeCacheDir } from '../../../trainer/backend/native.js';
import { decodeNetParameter, decodeSolverState } from '../../../trainer/proto/index.js';
import { sha256 } from '../../../trainer/train/snapshots.js';

const caffe = fileURLToPath(new URL('../../../trainer/cli/main.js', import.meta.url));

/** Whether @tensorflow/tfjs-node can be found where trainer/backend/native.ts looks for it. */
function nativeProvisioned(): boolean {
  if (existsSync(path.join(nativeCacheDir(), 'node_modules', '@tensorflow', 'tfjs-node'))) return true;
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

type Backend = 'cpu' | 'wasm' | 'tensorflow';
const backends: { name: Backend; skip?: string }[] = [
  { name: 'cpu' },
  { name: 'wasm' },
  {
    name: 'tensorflow',
    ...(nativeProvisioned() ? {} : { skip: 'native TensorFlow is not provisioned (npm run setup:native)' }),
  },
];

/** Random images (DummyData gaussian, drawn each pass) with constant labels: the loss falls quickly. */
const NET = `
name: "tiny"
layer { name: "data" type: "DummyData" top: "data" top: "label"
  dummy_data_param { shape { dim: 4 dim: 1 dim: 6 dim: 6 } shape { dim: 4 }
    data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: 2 kernel_size: 3 weight_filler { type: "gaussian" std: 0.5 } } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
layer { name: "ip" type: "InnerProduct" bottom: "conv" top: "ip"
  inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy"
  include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`;

/** Five 8x8 grey images read by an ImageData layer: shuffled, mirrored and cropped, so RNG state matters. */
const IMAGE_NET = `
name: "tinyimg"
layer { name: "data" type: "ImageData" top: "data" top: "label"
  transform_param { mirror: true crop_size: 6 scale: 0.0039 }
  image_data_param { source: "img/list.txt" root_folder: "img/" batch_size: 2 shuffle: true is_color: false } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
  inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
`;

/** The nets and images every test folder holds. */
async function writeFixtures(at: string): Promise<void> {
  await mkdir(path.join(at, 'img'), { recursive: true });
  await writeFile(path.join(at, 'net.prototxt'), NET);
  await writeFile(path.join(at, 'imgnet.prototxt'), IMAGE_NET);
  const list: string[] = [];
  for (let i = 0; i < 5; i++) {
    const pixels = Buffer.alloc(64);
    for (let k = 0; k < pixels.length; k++) pixels[k] = (k * 37 + i * 101) % 256;
    await sharp(pixels, { raw: { width: 8, height: 8, channels: 1 } })
      .png()
      .toFile(path.join(at, 'img', `${i}.png`));
    list.push(`${i}.png ${i % 3}`);
  }
  await writeFile(path.join(at, 'img', 'list.txt'), `${list.join('\n')}\n`);
}

function solver(fields: { maxIter: number; snapshot: number; prefix: string; extra?: string }): string {
  return `net: "net.prototxt"
test_iter: 2
test_interval: 2
base_lr: 0.1
momentum: 0.9
lr_policy: "fixed"
display: 1
max_iter: ${fields.maxIter}
snapshot: ${fields.snapshot}
snapshot_prefix: "${fields.prefix}"
random_seed: 7
${fields.extra ?? ''}`;
}

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'train-cli-'));
  await writeFixtures(dir);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  lines: string[];
  stderr: string;
}

/** Runs `caffe train` on `backend` in folder `cwd`; never rejects, so exit codes can be asserted. */
function train(args: string[], backend: Backend = 'cpu', cwd = dir): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [caffe, 'train', `--backend=${backend}`, ...args],
      { cwd, timeout: 60_000 },
      (error, _stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? null) : 0;
        resolve({ code, lines: messages(stderr), stderr });
      },
    );
  });
}

/** Caffe's messages without glog's prefix (`I1128 05:34:46.917000 15055 caffe.cpp:352] `). */
function messages(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => /^[IWEF]\d{4} /.test(line))
    .map((line) => line.slice(line.indexOf('] ') + 2));
}

const number = String.raw`-?\d+(\.\d+)?(e[-+]\d+)?`;

describe('caffe train', () => {
  it('trains, tests, snapshots and says Optimization Done.', async () => {
    await writeFile(
      path.join(dir, 'basic.prototxt'),
      solver({ maxIter: 4, snapshot: 2, prefix: 'basic/tiny' }),
    );
    const { code, lines, stderr } = await train(['--solver=basic.prototxt']);
    assert.equal(code, 0, stderr);
    const expect = (pattern: RegExp) =>
      assert.ok(
        lines.some((l) => pattern.test(l)),
        `no line matches ${pattern}:\n${lines.join('\n')}`,
      );
    expect(new RegExp(`^Iteration 0 \\(${number} iter/s, ${number}s/1 iters\\), loss = ${number}$`));
    expect(new RegExp(`^    Train net output #0: loss = ${number} \\(\\* 1 = ${number} loss\\)$`));
    expect(/^Iteration 0, Testing net \(#0\)$/);
    expect(new RegExp(`^    Test net output #0: accuracy = ${number}$`));
    expect(new RegExp(`^    Test net output #1: loss = ${number} \\(\\* 1 = ${number} loss\\)$`));
    expect(/^Snapshotting to binary proto file basic\/tiny_iter_2\.caffemodel$/);
    expect(/^Snapshotting solver state to binary proto file basic\/tiny_iter_4\.solverstate$/);
    assert.equal(lines.filter((l) => l === 'Optimization Done.').length, 2, 'the solver and the tool');
    // Caffe's set-up lines, in Caffe's order: each net's source, its layers' tops, its memory.
    const setUp = [
      'Creating training net from net file: net.prototxt',
      'Network initialization done.',
      'Creating test net (#0) specified by net file: net.prototxt',
      'Network initialization done.',
      'Solver scaffolding done.',
      'Starting Optimization',
    ].map((line) => lines.indexOf(line, 0));
    assert.ok(
      setUp.every((at) => at >= 0),
      `set-up lines missing:\n${lines.join('\n')}`,
    );
    const testNetAt = lines.indexOf('Creating test net (#0) specified by net file: net.prototxt');
    assert.ok(lines.indexOf('Network initialization done.', testNetAt) > testNetAt);
    expect(/^Top shape: \d+ 1 \d+ \d+ \(\d+\)$/);
    expect(/^Memory required for data: \d+$/);
    expect(/^ {4}with loss weight 1$/);
    expect(/^relu -> conv \(in-place\)$/);

    const model = decodeNetParameter(await readFile(path.join(dir, 'basic/tiny_iter_4.caffemodel')));
    const blobs = Object.fromEntries(
      (model.layer ?? []).map((l) => [l.name, (l.blobs ?? []).map((b) => b.shape?.dim.join('x'))]),
    );
    assert.deepEqual(blobs.conv, ['2x1x3x3', '2']);
    assert.deepEqual(blobs.ip, ['3x32', '3']);
    assert.equal(blobs.accuracy, undefined, 'TEST-only layers are not in the train net');

    const state = decodeSolverState(await readFile(path.join(dir, 'basic/tiny_iter_4.solverstate')));
    assert.equal(state.iter, 4);
    assert.equal(state.learnedNet, 'basic/tiny_iter_4.caffemodel');
    assert.equal(state.history?.length, 4, 'one momentum blob per learnable parameter');

    const progress = JSON.parse(await readFile(path.join(dir, 'basic/tiny_iter_4.progress.json'), 'utf8'));
    assert.equal(progress.iteration, 4);
    for (const entry of [progress.model, progress.solverState]) {
      assert.equal(entry.sha256, sha256(await readFile(path.join(dir, entry.file))), entry.file);
    }
    assert.equal(typeof progress.lastLoss, 'number');
    assert.equal(progress.tests[0].iteration, 2, 'the last test before the snapshot');
    assert.equal(progress.position.rngs.length, 2, 'the train net and one test net');
  });

  it('fine-tunes from --weights', async () => {
    await writeFile(path.join(dir, 'ft.prototxt'), solver({ maxIter: 1, snapshot: 0, prefix: 'ft/tiny' }));
    await writeFile(
      path.join(dir, 'fresh.prototxt'),
      solver({ maxIter: 1, snapshot: 0, prefix: 'fresh/tiny' }),
    );
    const tuned = await train(['--solver=ft.prototxt', '--weights=basic/tiny_iter_4.caffemodel']);
    assert.equal(tuned.code, 0, tuned.stderr);
    assert.ok(tuned.lines.includes('Finetuning from basic/tiny_iter_4.caffemodel'));
    const fresh = await train(['--solver=fresh.prototxt']);
    const testLoss = (lines: string[]) => lines.find((l) => l.includes('Test net output #1'));
    assert.notEqual(testLoss(tuned.lines), testLoss(fresh.lines), 'the copied weights are used');
  });

  it('exits 65 with one line for a missing solver or a bad prototxt', async () => {
    const missing = await train(['--solver=nowhere.prototxt']);
    assert.equal(missing.code, 65);
    assert.equal(
      missing.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('caffe:')).length,
      1,
    );
    assert.match(missing.stderr, /nowhere\.prototxt/);

    await writeFile(path.join(dir, 'bad.prototxt'), 'net: "net.prototxt"\nmax_iter: "many"\n');
    const bad = await train(['--solver=bad.prototxt']);
    assert.equal(bad.code, 65, bad.stderr);
    assert.match(bad.stderr, /^caffe: .*bad\.prototxt/m);

    await mkdir(path.join(dir, 'nonet'), { recursive: true });
    await writeFile(path.join(dir, 'nonet.prototxt'), 'net: "nonet/net.prototxt"\nmax_iter: 1\n');
    const noNet = await train(['--solver=nonet.prototxt']);
    assert.equal(noNet.code, 65, noNet.stderr);
    assert.match(noNet.stderr, /^caffe: .*nonet\/net\.prototxt/m);
  });

  it('exits 64 when given both --snapshot and --weights', async () => {
    const both = await train([
      '--solver=basic.prototxt',
      '--snapshot=x.solverstate',
      '--weights=y.caffemodel',
    ]);
    assert.equal(both.code, 64);
    assert.match(both.stderr, /^caffe: .*not both/m);
    await assert.rejects(stat(path.join(dir, 'x.solverstate')));
  });
});

for (const { name: backend, skip } of backends) {
  describe(`caffe train on ${backend}`, { skip }, () => {
    // Each backend trains in its own folder, so snapshots of one never meet another's.
    let home = '';
    before(async () => {
      home = path.join(dir, backend);
      await writeFixtures(home);
    });

    it('resumes exactly after SIGKILL: 2 + resume + 2 iterations give the same weights as 4', async () => {
      await writeFile(path.join(home, 'a.prototxt'), solver({ maxIter: 4, snapshot: 2, prefix: 'a/tiny' }));
      // Run B would go on for long: it is killed (no signal handler runs) once its iteration-2 snapshot
      // is complete, i.e. its progress record exists. lr_policy is fixed, so max_iter changes nothing else.
      await writeFile(
        path.join(home, 'b1.prototxt'),
        solver({ maxIter: 100000, snapshot: 2, prefix: 'b/tiny' }),
      );
      await writeFile(path.join(home, 'b2.prototxt'), solver({ maxIter: 4, snapshot: 2, prefix: 'c/tiny' }));
      const a = await train(['--solver=a.prototxt'], backend, home);
      assert.equal(a.code, 0, a.stderr);
      assert.match(a.stderr, new RegExp(`Using backend ${backend}: `), 'the backend asked for runs');

      const b1 = spawn(process.execPath, [caffe, 'train', `--backend=${backend}`, '--solver=b1.prototxt'], {
        cwd: home,
        stdio: 'ignore',
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        b1.on('exit', (_code, signal) => resolve(signal)),
      );
      const marker = path.join(home, 'b/tiny_iter_2.progress.json');
      for (let waited = 0; !(await stat(marker).catch(() => undefined)); waited += 20) {
        assert.ok(waited < 60_000, 'run B wrote its iteration-2 snapshot');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      b1.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');

      const b2 = await train(['--solver=b2.prototxt', '--snapshot=b/tiny_iter_2.solverstate'], backend, home);
      assert.equal(b2.code, 0, b2.stderr);
      assert.ok(b2.lines.includes('Resuming from b/tiny_iter_2.solverstate'), b2.lines.join('\n'));
      assert.ok(!b2.lines.some((l) => /^Iteration [01] /.test(l)), 'the resumed run starts at iteration 2');

      const lossAt = (lines: string[], iter: number) =>
        lines.find((l) => l.startsWith(`Iteration ${iter} (`))?.replace(/^.*loss = /, '');
      assert.equal(lossAt(b2.lines, 3), lossAt(a.lines, 3));
      const [modelA, modelB] = await Promise.all(
        ['a/tiny_iter_4.caffemodel', 'c/tiny_iter_4.caffemodel'].map((f) => readFile(path.join(home, f))),
      );
      assert.ok(modelA && modelB && modelA.equals(modelB), 'the final .caffemodel files are byte-identical');
    });

    it('resumes exactly with an ImageData layer: loader position and random draws carry over', async () => {
      const imageSolver = (maxIter: number, prefix: string) =>
        solver({ maxIter, snapshot: 2, prefix })
          .replace('net.prototxt', 'imgnet.prototxt')
          .replace(/^test_.*\n/gm, '');
      await writeFile(path.join(home, 'ia.prototxt'), imageSolver(4, 'ia/t'));
      await writeFile(path.join(home, 'ib1.prototxt'), imageSolver(2, 'ib/t'));
      await writeFile(path.join(home, 'ib2.prototxt'), imageSolver(4, 'ib/t'));
      for (const args of [['--solver=ia.prototxt'], ['--solver=ib1.prototxt']]) {
        const result = await train(args, backend, home);
        assert.equal(result.code, 0, result.stderr);
        // display: 1, so each iteration logs its share of waiting for the loader.
        const waits = result.stderr.split('\n').filter((l) => l.includes('blocking_queue.cpp:49] '));
        assert.equal(waits.length, args[0] === '--solver=ia.prototxt' ? 4 : 2, result.stderr);
        for (const line of waits) {
          assert.match(
            line,
            /\] Waiting for data: \d+\.\d% of 1 iteration \(\d+\.\d{3} s of \d+\.\d{3} s\)$/,
          );
        }
      }
      const progress = JSON.parse(await readFile(path.join(home, 'ib/t_iter_2.progress.json'), 'utf8'));
      assert.equal(progress.position.loaders['0/data'].batches, 2, 'two batches read by iteration 2');
      const resumed = await train(
        ['--solver=ib2.prototxt', '--snapshot=ib/t_iter_2.solverstate'],
        backend,
        home,
      );
      assert.equal(resumed.code, 0, resumed.stderr);
      const [modelA, modelB] = await Promise.all(
        ['ia/t_iter_4.caffemodel', 'ib/t_iter_4.caffemodel'].map((f) => readFile(path.join(home, f))),
      );
      assert.ok(modelA && modelB && modelA.equals(modelB), 'the final .caffemodel files are byte-identical');
    });

    it('on SIGTERM finishes the iteration, snapshots and exits 0', async () => {
      await writeFile(
        path.join(home, 'long.prototxt'),
        solver({ maxIter: 3000, snapshot: 0, prefix: 'long/tiny', extra: 'snapshot_after_train: false\n' }),
      );
      const child = spawn(
        process.execPath,
        [caffe, 'train', `--backend=${backend}`, '--solver=long.prototxt'],
        {
          cwd: home,
        },
      );
      // If the signal were ignored, the run would go on for minutes: stop it and let the asserts fail.
      const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/Iteration 3 \(/.test(stderr) && child.exitCode === null && !child.killed) child.kill('SIGTERM');
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      clearTimeout(guard);
      assert.equal(code, 0, stderr);
      const lines = messages(stderr);
      assert.ok(lines.includes('Optimization stopped early.'), lines.join('\n'));
      const snapshot = lines.find((l) => l.startsWith('Snapshotting to binary proto file'));
      assert.ok(snapshot, lines.join('\n'));
      const iter = Number(/_iter_(\d+)\./.exec(snapshot)?.[1]);
      assert.ok(iter >= 4, `the snapshot follows the finished iteration 3, received ${iter}`);
      const progress = JSON.parse(
        await readFile(path.join(home, `long/tiny_iter_${iter}.progress.json`), 'utf8'),
      );
      assert.equal(progress.iteration, iter);
    });
  });
}
