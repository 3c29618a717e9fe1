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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { caffeReference, caffeReferenceMissing } from '../../support/caffe-reference.js';
import { type LenetFixture, lenetFixture, losses, ours, solverText } from './lenet-fixture.js';

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

let fixture: LenetFixture;

before(async () => {
  // 64 x ITERATIONS x 2 (iter_size) records, so no variant wraps around the database.
  if (!skip) fixture = await lenetFixture(join(work, 'lenet'), 64 * ITERATIONS * 2);
});

describe('solvers against real Caffe, loss by loss', { skip }, () => {
  for (const [name, variant] of Object.entries(variants)) {
    const tolerance = adaptive.has(name) ? ADAPTIVE : SGD;
    it(`${name}: the same loss at each of ${ITERATIONS} iterations (relative ${tolerance})`, (t) => {
      const file = `examples/mnist/solver_${name.replace(/\W+/g, '_')}.prototxt`;
      const { root, baseSolver } = fixture;
      writeFileSync(join(root, file), solverText(baseSolver, variant, ITERATIONS));
      const args = ['train', `--solver=${file}`, '--weights=init_iter_0.caffemodel'];
      const theirs = losses(caffeReference()!.run('caffe', args, { cwd: root }).stderr);
      const mine = losses(ours(args, root));
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
