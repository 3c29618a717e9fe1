import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { solverSettings } from '../../../trainer/solver/config.js';
import { formatFloat } from '../../../trainer/solver/log-lines.js';
import { learningRate } from '../../../trainer/solver/lr-policy.js';
import { assertClose, referenceRate } from './reference.js';

// Every policy over a spread of iterations, against the Float64 reference of SGDSolver::GetLearningRate
// (BVLC/caffe src/caffe/solvers/sgd_solver.cpp).
const policies = [
  { lrPolicy: 'fixed', baseLr: 0.01 },
  { lrPolicy: 'step', baseLr: 0.01, gamma: 0.1, stepsize: 7 },
  { lrPolicy: 'exp', baseLr: 0.01, gamma: 0.95 },
  { lrPolicy: 'inv', baseLr: 0.01, gamma: 0.0001, power: 0.75 },
  { lrPolicy: 'multistep', baseLr: 0.01, gamma: 0.5, stepvalue: [3, 10, 11, 30] },
  { lrPolicy: 'poly', baseLr: 0.01, power: 2, maxIter: 40 },
  { lrPolicy: 'sigmoid', baseLr: 0.01, gamma: 0.2, stepsize: 15 },
];
const ITERS = 40;

describe('learningRate', () => {
  for (const policy of policies) {
    it(`follows the ${policy.lrPolicy} policy at every iteration`, () => {
      const settings = solverSettings(policy);
      let step = 0;
      let referenceStep = 0;
      const rates: number[] = [];
      const expected: number[] = [];
      for (let iter = 0; iter < ITERS; iter++) {
        const lr = learningRate(settings, iter, step);
        step = lr.currentStep;
        rates.push(lr.rate);
        const [rate, nextStep] = referenceRate({ ...policy, type: 'SGD' }, iter, referenceStep);
        referenceStep = nextStep;
        expected.push(rate);
        assert.equal(step, referenceStep, `current_step at iteration ${iter}`);
      }
      assertClose(rates, expected, `${policy.lrPolicy} rates`);
      if (policy.lrPolicy !== 'fixed')
        assert.notEqual(rates[0], rates[ITERS - 1], 'the rate changes over the run');
    });
  }

  it("gives CaffeNet's schedule: 0.01 until 100,000, then a tenth every 100,000 iterations", () => {
    const caffenet = solverSettings({ lrPolicy: 'step', baseLr: 0.01, gamma: 0.1, stepsize: 100000 });
    const at = (iter: number) => formatFloat(learningRate(caffenet, iter).rate);
    assert.deepEqual([0, 99999, 100000, 199999, 200000, 300000, 400000, 449999].map(at), [
      '0.01',
      '0.01',
      '0.001',
      '0.001',
      '0.0001',
      '1e-05',
      '1e-06',
      '1e-06',
    ]);
    assert.equal(learningRate(caffenet, 250000).currentStep, 2);
  });

  it('prints the rate a published Caffe 1.0 LeNet log shows for inv at iteration 9900', () => {
    // "sgd_solver.cpp:105] Iteration 9900, lr = 0.00596843" with base_lr 0.01, gamma 0.0001, power 0.75.
    const lenet = solverSettings({ lrPolicy: 'inv', baseLr: 0.01, gamma: 0.0001, power: 0.75 });
    assert.equal(formatFloat(learningRate(lenet, 9900).rate), '0.00596843');
  });

  it('advances multistep by at most one step per evaluation, and says when it did', () => {
    const settings = solverSettings({ lrPolicy: 'multistep', baseLr: 1, gamma: 0.1, stepvalue: [5, 6] });
    // Resumed past both step values with current_step 0: Caffe catches up one step per iteration.
    const first = learningRate(settings, 20, 0);
    assert.deepEqual([first.currentStep, first.stepAdvanced], [1, true]);
    const second = learningRate(settings, 21, first.currentStep);
    assert.deepEqual([second.currentStep, second.stepAdvanced], [2, true]);
    const third = learningRate(settings, 22, second.currentStep);
    // gamma is a float field, so the rate is base_lr · float32(0.1)², stored as float32.
    assert.deepEqual(
      [third.currentStep, third.stepAdvanced, third.rate],
      [2, false, Math.fround(Math.fround(0.1) ** 2)],
    );
  });

  it('returns float32 values, as Caffe stores the rate', () => {
    const rate = learningRate(solverSettings({ lrPolicy: 'exp', baseLr: 0.01, gamma: 0.9 }), 3).rate;
    assert.equal(rate, Math.fround(rate));
  });
});
