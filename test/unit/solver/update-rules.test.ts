import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

import { solverSettings } from '../../../trainer/solver/config.js';
import { applyUpdate, updateRule } from '../../../trainer/solver/update-rules/index.js';
import { assertClose, type ReferenceSettings, ReferenceSolver } from './reference.js';

before(async () => {
  await tf.setBackend('cpu');
});

// Each solver type, driven one parameter at a time through applyUpdate for six updates on
// loss = ½·Σ a·(w − c)², against the Float64 reference of the ComputeUpdateValue of each solver in
// BVLC/caffe src/caffe/solvers/ (sgd_solver.cpp, nesterov_solver.cpp, adagrad_solver.cpp, ...).
const cases: { name: string; settings: ReferenceSettings }[] = [
  { name: 'SGD with momentum', settings: { type: 'SGD', baseLr: 0.1, lrPolicy: 'fixed', momentum: 0.9 } },
  { name: 'Nesterov', settings: { type: 'Nesterov', baseLr: 0.1, lrPolicy: 'fixed', momentum: 0.9 } },
  { name: 'AdaGrad', settings: { type: 'AdaGrad', baseLr: 0.5, lrPolicy: 'fixed', delta: 1e-7 } },
  {
    name: 'RMSProp',
    settings: { type: 'RMSProp', baseLr: 0.05, lrPolicy: 'fixed', rmsDecay: 0.9, delta: 1e-6 },
  },
  {
    name: 'AdaDelta',
    settings: { type: 'AdaDelta', baseLr: 1, lrPolicy: 'fixed', momentum: 0.95, delta: 1e-6 },
  },
  {
    name: 'Adam',
    settings: { type: 'Adam', baseLr: 0.01, lrPolicy: 'fixed', momentum: 0.9, momentum2: 0.999, delta: 1e-8 },
  },
];

const a = [1, 2, 0.5, 3];
const c = [0.25, -0.5, 1, 0];
const start = [1, 0.5, -1.5, 2];

for (const { name, settings } of cases) {
  describe(`the ${name} update`, () => {
    it('matches the reference over six updates, value and every history blob', () => {
      const resolved = solverSettings({ ...settings, type: settings.type });
      const rule = updateRule(settings.type);
      const reference = new ReferenceSolver(settings, [{ value: [...start], lrMult: 1, decayMult: 1 }]);
      let value: tf.Tensor = tf.tensor1d(start, 'float32');
      let history = Array.from({ length: rule.historySlots }, () => tf.zeros([start.length]));
      for (let iter = 0; iter < 6; iter++) {
        const diff = tf.tidy(() => tf.mul(tf.tensor1d(a), tf.sub(value, tf.tensor1d(c))));
        const referenceGrad = reference.params[0]!.value.map((w, j) => a[j]! * (w - c[j]!));
        const before = tf.memory().numTensors;
        const out = applyUpdate(settings.type, {
          value,
          diff,
          history,
          localRate: Math.fround(settings.baseLr),
          iter,
          settings: resolved,
        });
        // Only the new value and history remain: every intermediate tensor was freed.
        assert.equal(tf.memory().numTensors, before + 1 + rule.historySlots);
        reference.update([referenceGrad]);
        tf.dispose([value, diff, ...history]);
        value = out.value;
        history = out.history;
        assertClose(value.dataSync(), reference.params[0]!.value, `${name} value after update ${iter + 1}`);
        history.forEach((blob, slot) => {
          assertClose(
            blob.dataSync(),
            reference.history[slot]![0]!,
            `${name} history slot ${slot}, update ${iter + 1}`,
          );
        });
      }
      // The parameter moved: a rule that did nothing would fail here rather than pass quietly.
      assert.ok(Math.abs(value.dataSync()[0]! - start[0]!) > 1e-3);
      tf.dispose([value, ...history]);
    });
  });
}

describe('the update rule registry', () => {
  it('keeps two history blobs per parameter for AdaDelta and Adam, one for the others', () => {
    const slots = Object.fromEntries(
      cases.map(({ settings }) => [settings.type, updateRule(settings.type).historySlots]),
    );
    assert.deepEqual(slots, { SGD: 1, Nesterov: 1, AdaGrad: 1, RMSProp: 1, AdaDelta: 2, Adam: 2 });
  });

  it('names the known types when asked for an unknown one', () => {
    assert.throws(
      () => updateRule('Adamax'),
      /unknown solver type "Adamax"; known types: SGD, Nesterov, AdaGrad/,
    );
  });

  it('refuses a history of the wrong length', () => {
    const value = tf.zeros([2]);
    assert.throws(
      () =>
        applyUpdate('Adam', {
          value,
          diff: value,
          history: [value],
          localRate: 0.1,
          iter: 0,
          settings: solverSettings({ lrPolicy: 'fixed' }),
        }),
      /Adam keeps 2 history blobs per parameter, received 1/,
    );
    value.dispose();
  });
});
