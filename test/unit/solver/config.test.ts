import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadInputError } from '../../../trainer/contract/errors.js';
import { solverSettings } from '../../../trainer/solver/config.js';

describe('solverSettings', () => {
  it("fills in Caffe's defaults", () => {
    const s = solverSettings({ lrPolicy: 'fixed' });
    assert.deepEqual(
      [
        s.type,
        s.regularizationType,
        s.momentum2,
        s.delta,
        s.rmsDecay,
        s.clipGradients,
        s.iterSize,
        s.averageLoss,
      ],
      ['SGD', 'L2', Math.fround(0.999), Math.fround(1e-8), Math.fround(0.99), -1, 1, 1],
    );
    assert.deepEqual([s.testInitialization, s.snapshotAfterTrain, s.snapshotFormat], [true, true, 1]);
  });

  it('maps the deprecated solver_type enum to the type name', () => {
    assert.equal(solverSettings({ lrPolicy: 'fixed', solverType: 5 }).type, 'Adam');
    assert.equal(solverSettings({ lrPolicy: 'fixed', solverType: 1, type: 'Nesterov' }).type, 'Nesterov');
  });

  const refusals: [string, Parameters<typeof solverSettings>[0], RegExp][] = [
    ['an unset lr_policy', {}, /lr_policy: expected one of fixed, step, .*received nothing/],
    ['an unknown lr_policy', { lrPolicy: 'cosine' }, /lr_policy: .*received "cosine"/],
    [
      'an unknown type',
      { lrPolicy: 'fixed', type: 'sgd' },
      /type: expected one of SGD, Nesterov, .*received "sgd"/,
    ],
    [
      'solver_type and type that disagree',
      { lrPolicy: 'fixed', type: 'SGD', solverType: 5 },
      /solver_type: .*disagree/,
    ],
    [
      'regularization L3',
      { lrPolicy: 'fixed', regularizationType: 'L3' },
      /regularization_type: expected "L1" or "L2", received "L3"/,
    ],
    [
      'step without a stepsize',
      { lrPolicy: 'step' },
      /stepsize: expected > 0 for lr_policy "step", received 0/,
    ],
    [
      'momentum with AdaGrad',
      { lrPolicy: 'fixed', type: 'AdaGrad', momentum: 0.9 },
      /momentum: expected 0: momentum cannot be used with AdaGrad/,
    ],
    ['iter_size 0', { lrPolicy: 'fixed', iterSize: 0 }, /iter_size: expected an integer ≥ 1, received 0/],
    [
      'test_iter without test_interval',
      { lrPolicy: 'fixed', testIter: [5] },
      /test_interval: expected > 0 when test_iter is set/,
    ],
  ];
  for (const [what, param, message] of refusals) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => solverSettings(param),
        (error: unknown) => error instanceof BadInputError && message.test(error.message),
      );
    });
  }
});
