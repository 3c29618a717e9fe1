// Every solver type, the lr policies, clip_gradients and iter_size, against real BVLC Caffe
// (test/support/caffe-reference.ts): Caffe's examples/mnist LeNet, unmodified, from one starting
// .caffemodel real Caffe wrote, over one LMDB real Caffe wrote (read in order by both), for a few
// iterations with display 1. The loss each tool logs at every iteration must agree: within 1e-4 for
// SGD and Nesterov, whatever the lr policy, clip_gradients and iter_size (measured: equal to the 6
// digits Caffe prints at most iterations, at most 4.8e-5 apart by iteration 12, the sigmoid policy);
// within 1e-2 for the adaptive solvers. Those divide each gradient by the root of its running square,
// so a weight whose gradient is near zero moves by about the learning rate whichever way float32
// rounding in another summation order tips it: measured up to 2.8e-3 (RMSProp), 1.7e-3 (Adam, from
// other starting weights), 6e-4 (AdaGrad), 3.3e-6 (AdaDelta) by iteration 12.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { Rng } from '../../../trainer/rng.js';
import { caffeReference, caffeReferenceMissing } from '../../support/caffe-reference.js';
import { CAFFE } from '../data/prep-checks.js';

const skip = caffeReferenceMissing() ?? false;
const work = mkdtempSync(join(tmpdir(), 'brewery-real-caffe-solvers-'));
after(() => rmSync(work, { recursive: true, force: true }));

const ITERATIONS = 12;
/** Relative difference allowed between the two tools' loss at the same iteration (see above). */
const SGD = 1e-4;
const ADAPTIVE = 1e-2;
const adaptive = new Set(['AdaGrad', 'RMSProp', 'AdaDelta', 'Adam']);

const variants: Record<string, string> = {
  'SGD, inv (the example as it is)': '',
  'SGD, step': 'lr_policy: "step" stepsize: 4 gamma: 0.5',
  'SGD, multistep': 'lr_policy: "multistep" stepvalue: 3 stepvalue: 7 gamma: 0.3',
  'SGD, exp': 'lr_policy: "exp" gamma: 0.9',
  'SGD, poly': 'lr_policy: "poly" power: 2',
  'SGD, sigmoid': 'lr_policy: "sigmoid" gamma: 0.5 stepsize: 6',
  Nesterov: 'type: "Nesterov"',
  AdaGrad: 'type: "AdaGrad" momentum: 0',
  RMSProp: 'type: "RMSProp" momentum: 0 rms_decay: 0.98',
  AdaDelta: 'type: "AdaDelta" momentum: 0.95 delta: 1e-6 base_lr: 1 lr_policy: "fixed"',
  Adam: 'type: "Adam" momentum: 0.9 momentum2: 0.999 delta: 1e-8 base_lr: 0.001 lr_policy: "fixed"',
  clip_gradients: 'clip_gradients: 0.5',
  iter_size: 'iter_size: 2',
};

/** The example's solver without the fields a variant sets, with the variant's fields and ours. */
function solverText(base: string, variant: string): string {
  const fields = new Set([...variant.matchAll(/(\w+):/g)].map((m) => m[1]!));
  const kept = base
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .filter((line) => {
      const field = /^(\w+):/.exec(line)?.[1];
      return (
        !field ||
        !['max_iter', 'snapshot', 'display', 'test_interval', 'solver_mode', ...fields].includes(field)
      );
    });
  return `${kept.join('\n')}\n${variant.replace(/ (\w+):/g, '\n$1:')}
max_iter: ${ITERATIONS}
display: 1
test_interval: 1000
test_initialization: false
snapshot: 0
snapshot_after_train: false
solver_mode: CPU
`;
}

/** Iteration → loss, from `Iteration N (...), loss = X` lines of either tool. */
function losses(log: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const match of log.matchAll(/\] Iteration (\d+) \([^)]*\), loss = ([-\d.e+]+)/g)) {
    out.set(Number(match[1]), Number(match[2]));
  }
  return out;
}

const root = join(work, 'lenet');
const exampleDir = join(root, 'examples', 'mnist');
let baseSolver = '';

before(async () => {
  if (skip) return;
  const caffe = caffeReference()!;
  mkdirSync(exampleDir, { recursive: true });
  const source = join(caffe.env.CAFFE_REF_ROOT!, 'src', 'examples', 'mnist');
  copyFileSync(join(source, 'lenet_train_test.prototxt'), join(exampleDir, 'lenet_train_test.prototxt'));
  baseSolver = readFileSync(join(source, 'lenet_solver.prototxt'), 'utf8');
  // 64 x ITERATIONS x 2 (iter_size) records, so no variant wraps around the database.
  const images = join(root, 'images');
  mkdirSync(images);
  const rng = new Rng(5);
  const lines: string[] = [];
  for (let i = 0; i < 64 * ITERATIONS * 2; i++) {
    const pixels = Buffer.alloc(28 * 28);
    for (let p = 0; p < pixels.length; p++) pixels[p] = rng.nextInt(256);
    await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(join(images, `${i}.png`));
    lines.push(`${i}.png ${i % 10}`);
  }
  writeFileSync(join(images, 'list.txt'), `${lines.join('\n')}\n`);
  for (const db of ['mnist_train_lmdb', 'mnist_test_lmdb']) {
    caffe.run('convert_imageset', ['--gray', `${images}/`, join(images, 'list.txt'), join(exampleDir, db)]);
  }
  // One starting point for both: real Caffe's filled net, saved before any iteration.
  const init = `${solverText(baseSolver, '')}random_seed: 1701\n`
    .replace(`max_iter: ${ITERATIONS}`, 'max_iter: 0')
    .replace('snapshot_after_train: false', 'snapshot_after_train: true');
  writeFileSync(
    join(exampleDir, 'init_solver.prototxt'),
    init.replace(/snapshot_prefix: .*/, 'snapshot_prefix: "init"'),
  );
  caffe.run('caffe', ['train', '--solver=examples/mnist/init_solver.prototxt'], { cwd: root });
});

describe('solvers against real Caffe, loss by loss', { skip }, () => {
  for (const [name, variant] of Object.entries(variants)) {
    const tolerance = adaptive.has(name) ? ADAPTIVE : SGD;
    it(`${name}: the same loss at each of ${ITERATIONS} iterations (relative ${tolerance})`, (t) => {
      const file = `examples/mnist/solver_${name.replace(/\W+/g, '_')}.prototxt`;
      writeFileSync(join(root, file), solverText(baseSolver, variant));
      const args = ['train', `--solver=${file}`, '--weights=init_iter_0.caffemodel'];
      const theirs = losses(caffeReference()!.run('caffe', args, { cwd: root }).stderr);
      const run = spawnSync(process.execPath, [CAFFE, ...args], {
        cwd: root,
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      assert.equal(run.status, 0, run.stderr);
      const mine = losses(run.stderr);
      assert.equal(theirs.size, ITERATIONS, `real Caffe logged ${theirs.size} losses`);
      assert.deepEqual([...mine.keys()], [...theirs.keys()]);
      const relative = [...theirs].map(
        ([i, loss]) => Math.abs(mine.get(i)! - loss) / Math.max(1, Math.abs(loss)),
      );
      t.diagnostic(
        `largest relative difference ${Math.max(...relative).toExponential(2)}: ${relative.map((r) => r.toExponential(1)).join(' ')}`,
      );
      for (const [iteration, loss] of theirs) {
        const ours = mine.get(iteration)!;
        assert.ok(
          Math.abs(ours - loss) <= tolerance * Math.max(1, Math.abs(loss)),
          `iteration ${iteration}: ours ${ours}, real Caffe's ${loss}`,
        );
      }
    });
  }
});
