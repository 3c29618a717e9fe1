// Caffe's own examples, unmodified nets, against real BVLC Caffe (test/support/caffe-reference.ts):
// examples/mnist's LeNet and examples/cifar10's quick net, read from the reference build's source tree,
// over LMDBs (and, for CIFAR-10, a mean file) that real Caffe's convert_imageset and
// compute_image_mean write, laid out where the nets expect them. Our `caffe train` trains each net as it
// is, from Caffe's solver with its iteration counts shortened for a test (and solver_mode CPU); then
// both tools' `caffe test` score our weights on the same database: the same accuracy, and the same loss
// within float32 summation order (1e-5 relative).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import sharp from 'sharp';

import { Rng } from '../../../trainer/rng.js';
import { caffeReference, caffeReferenceMissing } from '../../support/caffe-reference.js';
import { CAFFE } from '../data/prep-checks.js';

const skip = caffeReferenceMissing() ?? false;
const work = mkdtempSync(join(tmpdir(), 'brewery-real-caffe-examples-'));
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * A learnable ten-class image set: noise with a brighter block whose place says the class. Written as
 * PNG files with train.txt and test.txt list files.
 */
async function imageSet(dir: string, size: number, channels: 1 | 3, counts: { train: number; test: number }) {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(11);
  for (const [split, n] of Object.entries(counts)) {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const label = i % 10;
      const pixels = Buffer.alloc(size * size * channels);
      for (let p = 0; p < pixels.length; p++) pixels[p] = rng.nextInt(200);
      const [row, col] = [Math.floor(label / 5), label % 5];
      const block = Math.floor(size / 6);
      for (let y = 0; y < block * 2; y++) {
        for (let x = 0; x < block; x++) {
          const at = ((row * (size / 2) + 2 + y) * size + col * block + 1 + x) * channels;
          for (let c = 0; c < channels; c++) pixels[at + c] = Math.min(255, pixels[at + c]! + 60);
        }
      }
      const name = `${split}_${i}.png`;
      await sharp(pixels, { raw: { width: size, height: size, channels } })
        .toColourspace(channels === 1 ? 'b-w' : 'srgb')
        .png()
        .toFile(join(dir, name));
      lines.push(`${name} ${label}`);
    }
    writeFileSync(join(dir, `${split}.txt`), `${lines.join('\n')}\n`);
  }
}

/** Our `caffe` in `cwd`; throws with its stderr when it fails. */
function ours(args: string[], cwd: string): string {
  const run = spawnSync(process.execPath, [CAFFE, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(run.status, 0, `caffe ${args.join(' ')}:\n${run.stderr}`);
  return run.stderr;
}

/** `caffe test`'s final `accuracy = ` and `loss = ` values, from either tool's log. */
function scores(log: string): { accuracy: number; loss: number } {
  const final = (name: string) => {
    const match = [...log.matchAll(new RegExp(`\\] ${name} = ([-\\d.e+]+)`, 'g'))].at(-1);
    assert.ok(match, `no final '${name} = ' line in:\n${log}`);
    return Number(match[1]);
  };
  return { accuracy: final('accuracy'), loss: final('loss') };
}

const examples = {
  mnist: {
    net: 'lenet_train_test.prototxt',
    solver: 'lenet_solver.prototxt',
    size: 28,
    channels: 1 as const,
    databases: ['mnist_train_lmdb', 'mnist_test_lmdb'],
    mean: undefined,
    solverEdits: { max_iter: 60, test_interval: 30, test_iter: 2, display: 10, snapshot: 60 },
    prefix: 'lenet',
  },
  cifar10: {
    net: 'cifar10_quick_train_test.prototxt',
    solver: 'cifar10_quick_solver.prototxt',
    size: 32,
    channels: 3 as const,
    databases: ['cifar10_train_lmdb', 'cifar10_test_lmdb'],
    mean: 'mean.binaryproto',
    solverEdits: { max_iter: 40, test_interval: 20, test_iter: 2, display: 10, snapshot: 40 },
    prefix: 'cifar10_quick',
  },
};

describe("Caffe's examples, unmodified nets, against real Caffe", { skip }, () => {
  for (const [name, example] of Object.entries(examples)) {
    it(`examples/${name}: trains as it is, and caffe test scores our weights as real Caffe does`, async () => {
      const caffe = caffeReference()!;
      const root = join(work, name);
      const exampleDir = join(root, 'examples', name);
      mkdirSync(exampleDir, { recursive: true });
      const source = join(caffe.env.CAFFE_REF_ROOT!, 'src', 'examples', name);
      copyFileSync(join(source, example.net), join(exampleDir, example.net));
      let solver = readFileSync(join(source, example.solver), 'utf8').replace(
        'solver_mode: GPU',
        'solver_mode: CPU',
      );
      for (const [field, value] of Object.entries(example.solverEdits)) {
        solver = solver.replace(new RegExp(`^${field}: .*$`, 'm'), `${field}: ${value}`);
      }
      writeFileSync(join(exampleDir, example.solver), solver);

      const images = join(root, 'images');
      await imageSet(images, example.size, example.channels, { train: 300, test: 200 });
      const gray = example.channels === 1 ? ['--gray'] : [];
      const [trainDb, testDb] = example.databases.map((db) => join(exampleDir, db)) as [string, string];
      caffe.run('convert_imageset', [...gray, '--shuffle', `${images}/`, join(images, 'train.txt'), trainDb]);
      caffe.run('convert_imageset', [...gray, `${images}/`, join(images, 'test.txt'), testDb]);
      if (example.mean) caffe.run('compute_image_mean', [trainDb, join(exampleDir, example.mean)]);

      ours(['train', `--solver=examples/${name}/${example.solver}`], root);
      const weights = `examples/${name}/${example.prefix}_iter_${example.solverEdits.max_iter}.caffemodel`;
      const testArgs = [
        'test',
        `--model=examples/${name}/${example.net}`,
        `--weights=${weights}`,
        '--iterations=2',
      ];
      const mine = scores(ours(testArgs, root));
      const theirs = scores(caffe.run('caffe', testArgs, { cwd: root }).stderr);
      assert.equal(mine.accuracy, theirs.accuracy, 'accuracy');
      assert.ok(
        Math.abs(mine.loss - theirs.loss) <= 1e-5 * Math.max(1, Math.abs(theirs.loss)),
        `loss: ours ${mine.loss}, real Caffe's ${theirs.loss}`,
      );
    });
  }
});
