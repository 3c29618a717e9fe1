// hack/gpu/check's readers against the real program's output: `caffe time`'s summary lines as the
// built trainer prints them, and the weight comparison on caffemodels `caffe train` wrote.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { maxWeightDifference, parseTimeLog, plan } from '../../../hack/gpu/check.js';
import { CAFFE_MAIN, TINY_NET } from '../../support/tiny-net.js';

const run = promisify(execFile);

describe('hack/gpu/check', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gpu-check-'));
    await writeFile(join(dir, 'net.prototxt'), TINY_NET);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reads caffe time's averages, forward plus backward being forward-backward", async () => {
    const { stderr } = await run(process.execPath, [
      CAFFE_MAIN,
      'time',
      `--model=${join(dir, 'net.prototxt')}`,
      '--iterations=3',
      '--backend=cpu',
    ]);
    const figures = parseTimeLog(stderr);
    for (const value of Object.values(figures)) assert.ok(Number.isFinite(value) && value >= 0, stderr);
    // Caffe prints each with 6 significant digits: the sum agrees to that.
    const sum = figures.forwardMs + figures.backwardMs;
    assert.ok(Math.abs(sum - figures.fwdBwdMs) <= 1e-4 * Math.max(1, figures.fwdBwdMs), stderr);
    assert.throws(() => parseTimeLog('no summary here'), /Average Forward pass/);
  });

  it('finds no difference between a caffemodel and itself, and the change from training', async () => {
    const solver = (iters: number) =>
      `net: "net.prototxt"\nbase_lr: 0.1\nlr_policy: "fixed"\nmax_iter: ${iters}\nsnapshot: ${iters}\n` +
      `snapshot_prefix: "s${iters}"\nrandom_seed: 5\n`;
    for (const iters of [1, 3]) {
      await writeFile(join(dir, `solver${iters}.prototxt`), solver(iters));
      await run(
        process.execPath,
        [CAFFE_MAIN, 'train', `--solver=solver${iters}.prototxt`, '--backend=cpu'],
        {
          cwd: dir,
        },
      );
    }
    const one = await readFile(join(dir, 's1_iter_1.caffemodel'));
    const three = await readFile(join(dir, 's3_iter_3.caffemodel'));
    assert.deepEqual(maxWeightDifference(one, one), { blobs: 2, maxAbs: 0 });
    const trained = maxWeightDifference(one, three);
    assert.equal(trained.blobs, 2);
    assert.ok(trained.maxAbs > 0, 'two more iterations at lr 0.1 move the weights');
  });

  it('runs the CPU path smaller than the GPU one, interrupting half-way', () => {
    const [cpu, gpu] = [
      plan({ cpu: true, backend: 'tensorflow' }),
      plan({ cpu: false, backend: 'tensorflow' }),
    ];
    assert.deepEqual([gpu.batch, gpu.trainIterations, gpu.interruptAfter], [256, 200, 100]);
    assert.ok(cpu.batch < gpu.batch && cpu.trainIterations < gpu.trainIterations);
    assert.equal(cpu.interruptAfter * 2, cpu.trainIterations);
  });
});
