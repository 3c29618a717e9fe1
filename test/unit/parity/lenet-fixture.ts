// Caffe's examples/mnist LeNet set up for both tools (real BVLC Caffe, test/support/caffe-reference.ts,
// and ours): the net unmodified from the reference's source tree, LMDBs of noise digits that real
// Caffe's convert_imageset wrote, and one starting .caffemodel real Caffe filled and saved before any
// iteration (init_iter_0.caffemodel), so both start from the same weights and read the same records.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import sharp from 'sharp';

import { Rng } from '../../../trainer/rng.js';
import { caffeReference } from '../../support/caffe-reference.js';
import { CAFFE } from '../data/prep-checks.js';

export interface LenetFixture {
  /** The working folder both tools run in; the net is examples/mnist/lenet_train_test.prototxt there. */
  root: string;
  /** examples/mnist/lenet_solver.prototxt as Caffe ships it. */
  baseSolver: string;
}

/**
 * The example's solver without the fields `variant` sets, with the variant's fields, `iterations`
 * iterations at display 1, no tests and no snapshots unless `extra` says otherwise.
 */
export function solverText(base: string, variant: string, iterations: number, extra = ''): string {
  const fields = new Set([...`${variant} ${extra}`.matchAll(/(\w+):/g)].map((m) => m[1]!));
  const defaults: Record<string, string> = {
    display: '1',
    test_interval: '1000',
    test_initialization: 'false',
    snapshot: '0',
    snapshot_after_train: 'false',
  };
  const kept = base
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .filter((line) => {
      const field = /^(\w+):/.exec(line)?.[1];
      return !field || !['max_iter', 'solver_mode', ...Object.keys(defaults), ...fields].includes(field);
    });
  const set = Object.entries(defaults)
    .filter(([field]) => !fields.has(field))
    .map(([field, value]) => `${field}: ${value}`);
  return `${kept.join('\n')}
${variant.replace(/ (\w+):/g, '\n$1:')}
${extra.replace(/ (\w+):/g, '\n$1:')}
max_iter: ${iterations}
${set.join('\n')}
solver_mode: CPU
`;
}

/** Iteration → loss, from `Iteration N (...), loss = X` lines of either tool. */
export function losses(log: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const match of log.matchAll(/\] Iteration (\d+) \([^)]*\), loss = ([-\d.e+]+)/g)) {
    out.set(Number(match[1]), Number(match[2]));
  }
  return out;
}

/** Our `caffe` in `cwd`; its stderr (the log), or an assertion failure with it. */
export function ours(args: string[], cwd: string): string {
  const run = spawnSync(process.execPath, [CAFFE, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(run.status, 0, `caffe ${args.join(' ')}:\n${run.stderr}`);
  return run.stderr;
}

/** LeNet under `root` with `records` noise digits (labels i mod 10) in both its LMDBs. */
export async function lenetFixture(root: string, records: number): Promise<LenetFixture> {
  const caffe = caffeReference()!;
  const exampleDir = join(root, 'examples', 'mnist');
  mkdirSync(exampleDir, { recursive: true });
  const source = join(caffe.env.CAFFE_REF_ROOT!, 'src', 'examples', 'mnist');
  copyFileSync(join(source, 'lenet_train_test.prototxt'), join(exampleDir, 'lenet_train_test.prototxt'));
  const baseSolver = readFileSync(join(source, 'lenet_solver.prototxt'), 'utf8');
  const images = join(root, 'images');
  mkdirSync(images);
  const rng = new Rng(5);
  const lines: string[] = [];
  for (let i = 0; i < records; i++) {
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
  const init = solverText(baseSolver, '', 0, 'random_seed: 1701 snapshot_after_train: true').replace(
    /snapshot_prefix: .*/,
    'snapshot_prefix: "init"',
  );
  writeFileSync(join(exampleDir, 'init_solver.prototxt'), init);
  caffe.run('caffe', ['train', '--solver=examples/mnist/init_solver.prototxt'], { cwd: root });
  return { root, baseSolver };
}
