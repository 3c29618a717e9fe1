import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

import { type LogLine, Solver, type SolverParameterFields } from '../../../trainer/solver/index.js';
import { INITIAL, makeParams, quadraticNet, referencePass, values } from './problem.js';
import { assertClose, type ReferenceSettings, ReferenceSolver } from './reference.js';

before(async () => {
  await tf.setBackend('cpu');
});

type Multipliers = { lrMult: number; decayMult: number }[];

/** Trains the tiny problem with the Solver and with the Float64 reference; returns both results. */
async function trainBoth(settings: ReferenceSettings, iters: number, multipliers: Multipliers = []) {
  const params = makeParams(multipliers);
  const lines: LogLine[] = [];
  const solver = new Solver({
    params,
    param: settings,
    trainNet: quadraticNet(params),
    log: (l) => lines.push(l),
  });
  await solver.step(iters);
  const reference = new ReferenceSolver(
    settings,
    INITIAL.map((value, i) => ({ value: [...value], ...(multipliers[i] ?? { lrMult: 1, decayMult: 1 }) })),
  );
  let pass = 0;
  for (let iter = 0; iter < iters; iter++) {
    const current = reference.params.map((p) => p.value);
    let accumulated = current.map((w) => w.map(() => 0));
    for (let k = 0; k < (settings.iterSize ?? 1); k++) {
      const { grads } = referencePass(
        reference.params.map((p) => p.value),
        pass++,
      );
      accumulated = accumulated.map((acc, i) => acc.map((x, j) => x + grads[i]![j]!));
    }
    reference.update(accumulated);
  }
  const result = {
    actual: values(params),
    expected: reference.params.map((p) => p.value),
    lines,
    solver,
    reference,
  };
  solver.dispose();
  for (const p of params) p.variable.dispose();
  return result;
}

function assertMatches(run: { actual: number[][]; expected: number[][] }, what: string): void {
  run.actual.forEach((value, i) => {
    assertClose(value, run.expected[i]!, `${what}, parameter ${i}`);
  });
}

/** The feature under test changes the result well beyond the tolerance, so ignoring it would fail. */
function assertFarApart(a: number[][], b: number[][], what: string): void {
  const gap = Math.max(...a.flatMap((values, i) => values.map((x, j) => Math.abs(x - b[i]![j]!))));
  assert.ok(gap > 1e-3, `${what}: expected a difference above 1e-3, the largest is ${gap}`);
}

const base: ReferenceSettings = { type: 'SGD', baseLr: 0.1, lrPolicy: 'fixed', momentum: 0.9 };

describe('Solver.step against the reference', () => {
  const types: ReferenceSettings[] = [
    { ...base, lrPolicy: 'step', gamma: 0.5, stepsize: 3, weightDecay: 0.01 },
    { ...base, type: 'Nesterov', lrPolicy: 'step', gamma: 0.5, stepsize: 3, weightDecay: 0.01 },
    { type: 'AdaGrad', baseLr: 0.3, lrPolicy: 'fixed', delta: 1e-7, weightDecay: 0.01 },
    { type: 'RMSProp', baseLr: 0.03, lrPolicy: 'fixed', rmsDecay: 0.9, delta: 1e-6, weightDecay: 0.01 },
    { type: 'AdaDelta', baseLr: 1, lrPolicy: 'fixed', momentum: 0.95, delta: 1e-6, weightDecay: 0.01 },
    { type: 'Adam', baseLr: 0.05, lrPolicy: 'fixed', momentum: 0.9, momentum2: 0.999, weightDecay: 0.01 },
  ];
  for (const settings of types) {
    it(`the ${settings.type} solver follows the reference for 8 iterations`, async () => {
      assertMatches(await trainBoth(settings, 8), settings.type);
    });
  }

  const policies: Partial<ReferenceSettings>[] = [
    { lrPolicy: 'fixed' },
    { lrPolicy: 'step', gamma: 0.5, stepsize: 3 },
    { lrPolicy: 'exp', gamma: 0.8 },
    { lrPolicy: 'inv', gamma: 0.5, power: 0.75 },
    { lrPolicy: 'multistep', gamma: 0.3, stepvalue: [2, 3, 6] },
    { lrPolicy: 'poly', power: 2, maxIter: 10 },
    { lrPolicy: 'sigmoid', gamma: 1, stepsize: 4 },
  ];
  for (const policy of policies) {
    it(`SGD with the ${policy.lrPolicy} policy follows the reference for 8 iterations`, async () => {
      assertMatches(await trainBoth({ ...base, ...policy }, 8), `${policy.lrPolicy} policy`);
    });
  }

  it('iter_size 3 sums three passes, divides by 3 and displays the mean loss', async () => {
    const settings = { ...base, iterSize: 3, display: 1 };
    const run = await trainBoth(settings, 5);
    assertMatches(run, 'iter_size 3');
    assertFarApart(run.actual, (await trainBoth(base, 5)).actual, 'iter_size 3 against iter_size 1');
    const { loss } = [0, 1, 2]
      .map((pass) => referencePass(INITIAL, pass).loss)
      .reduce((acc, l) => ({ loss: acc.loss + l / 3 }), { loss: 0 });
    const first = run.lines.find((l) => l.message.startsWith('Iteration 0 ('))!;
    const shown = Number(/loss = (\S+)$/.exec(first.message)![1]);
    assert.ok(Math.abs(shown - loss) <= 1e-5 * loss, `displayed ${shown}, expected the mean ${loss}`);
  });

  it('clip_gradients scales every diff by clip / global L2 norm and says so', async () => {
    const settings = { ...base, clipGradients: 0.5 };
    const run = await trainBoth(settings, 6);
    assertMatches(run, 'clip_gradients 0.5');
    assertFarApart(run.actual, (await trainBoth(base, 6)).actual, 'clipped against unclipped');
    const norm = Math.hypot(...referencePass(INITIAL, 0).grads.flat());
    const clipping = run.lines.filter((l) => l.message.startsWith('Gradient clipping'));
    assert.ok(clipping.length > 0);
    assert.match(
      clipping[0]!.message,
      new RegExp(`L2 norm ${norm.toPrecision(6).replace(/0+$/, '')} > 0.5\\)`),
    );
  });

  for (const type of ['L2', 'L1'] as const) {
    it(`${type} weight decay adds decay·${type === 'L2' ? 'W' : 'sign(W)'} to the gradient`, async () => {
      const settings: ReferenceSettings = { ...base, weightDecay: 0.2, regularizationType: type };
      const run = await trainBoth(settings, 6);
      assertMatches(run, `${type} decay`);
      assertFarApart(run.actual, (await trainBoth(base, 6)).actual, `${type} decay against none`);
    });
  }

  it('lr_mult and decay_mult scale each parameter’s rate and decay; lr_mult 0 freezes a parameter', async () => {
    const settings = { ...base, weightDecay: 0.1 };
    const multipliers = [
      { lrMult: 2, decayMult: 0 },
      { lrMult: 0.5, decayMult: 3 },
    ];
    const run = await trainBoth(settings, 6, multipliers);
    assertMatches(run, 'lr_mult/decay_mult');
    assertFarApart(run.actual, (await trainBoth(settings, 6)).actual, 'multipliers against 1/1');
    const frozen = await trainBoth(settings, 3, [
      { lrMult: 0, decayMult: 1 },
      { lrMult: 1, decayMult: 1 },
    ]);
    assert.deepEqual(frozen.actual[0], Array.from(Float32Array.from(INITIAL[0]!)));
  });

  it('leaves no tensors behind apart from the history it keeps', async () => {
    const params = makeParams();
    const solver = new Solver({
      params,
      param: { ...base, type: 'Adam', clipGradients: 0.1, iterSize: 2 },
      trainNet: quadraticNet(params),
    });
    await solver.step(1);
    const after1 = tf.memory().numTensors;
    await solver.step(3);
    assert.equal(tf.memory().numTensors, after1);
    solver.dispose();
    assert.equal(tf.memory().numTensors, after1 - 4);
    for (const p of params) p.variable.dispose();
  });
});

describe('Solver.solve', () => {
  it("runs Caffe's order: tests before the update, display, lr, snapshots, final loss, final test", async () => {
    const trainLosses = [4, 3, 2, 1];
    const params = makeParams();
    const gradients = () => params.map((p) => tf.fill(p.variable.shape, 0.1));
    let pass = 0;
    const trainNet = {
      name: 'tiny',
      async forwardBackward() {
        const loss = trainLosses[pass++]!;
        return { loss, gradients: gradients(), outputs: [{ name: 'loss', values: [loss], lossWeight: 1 }] };
      },
      async forward() {
        return { loss: 0.5, outputs: [{ name: 'loss', values: [0.5], lossWeight: 1 }] };
      },
    };
    let testBatch = 0;
    const testNet = {
      async forward() {
        const accuracy = testBatch++ % 2 === 0 ? 0.5 : 0.25;
        return {
          loss: 2,
          outputs: [
            { name: 'accuracy', values: [accuracy], lossWeight: 0 },
            { name: 'loss', values: [2], lossWeight: 1 },
          ],
        };
      },
    };
    const times = [1000, 1000, 1500];
    const writes: string[] = [];
    const lines: LogLine[] = [];
    const param: SolverParameterFields = {
      baseLr: 0.01,
      lrPolicy: 'step',
      gamma: 0.1,
      stepsize: 2,
      display: 2,
      averageLoss: 2,
      testInterval: 2,
      testIter: [2],
      snapshot: 3,
      snapshotPrefix: 'out/tiny',
      maxIter: 4,
    };
    const solver = new Solver({
      params,
      param,
      trainNet,
      testNets: [testNet],
      log: (l) => lines.push(l),
      clock: { now: () => times.shift() ?? 9999 },
      snapshotWriter: {
        async writeModel(file) {
          writes.push(`model ${file}`);
        },
        async writeSolverState(file, state) {
          writes.push(
            `state ${file} iter ${state.iter} learned_net ${state.learnedNet} blobs ${state.history.length}`,
          );
        },
      },
    });
    await solver.solve();
    const test = [
      '    Test net output #0: accuracy = 0.375',
      '    Test net output #1: loss = 2 (* 1 = 2 loss)',
    ];
    assert.deepEqual(
      lines.map((l) => l.message),
      [
        'Solving tiny',
        'Learning Rate Policy: step',
        'Iteration 0, Testing net (#0)',
        ...test,
        'Iteration 0 (0 iter/s, 0s/2 iters), loss = 4',
        '    Train net output #0: loss = 4 (* 1 = 4 loss)',
        'Iteration 0, lr = 0.01',
        'Iteration 2, Testing net (#0)',
        ...test,
        'Iteration 2 (4 iter/s, 0.5s/2 iters), loss = 2.5',
        '    Train net output #0: loss = 2 (* 1 = 2 loss)',
        'Iteration 2, lr = 0.001',
        'Snapshotting to binary proto file out/tiny_iter_3.caffemodel',
        'Snapshotting solver state to binary proto file out/tiny_iter_3.solverstate',
        'Snapshotting to binary proto file out/tiny_iter_4.caffemodel',
        'Snapshotting solver state to binary proto file out/tiny_iter_4.solverstate',
        'Iteration 4, loss = 0.75',
        'Iteration 4, Testing net (#0)',
        ...test,
        'Optimization Done.',
      ],
    );
    assert.deepEqual(writes, [
      'model out/tiny_iter_3.caffemodel',
      'state out/tiny_iter_3.solverstate iter 3 learned_net out/tiny_iter_3.caffemodel blobs 2',
      'model out/tiny_iter_4.caffemodel',
      'state out/tiny_iter_4.solverstate iter 4 learned_net out/tiny_iter_4.caffemodel blobs 2',
    ]);
    solver.dispose();
  });

  it('skips the test at iteration 0 without test_initialization, and stops early on request', async () => {
    const params = makeParams();
    const lines: string[] = [];
    const writes: string[] = [];
    let done = () => 0;
    const solver = new Solver({
      params,
      param: {
        ...base,
        testInterval: 1,
        testIter: [1],
        testInitialization: false,
        maxIter: 10,
        snapshotPrefix: 'p',
      },
      trainNet: quadraticNet(params),
      testNets: [{ forward: async () => ({ loss: 0, outputs: [] }) }],
      log: (l) => lines.push(l.message),
      requestedAction: () => (done() === 2 ? 'stop' : 'none'),
      snapshotWriter: {
        writeModel: async (file) => void writes.push(file),
        writeSolverState: async (file) => void writes.push(file),
      },
    });
    done = () => solver.iter;
    await solver.solve();
    assert.equal(solver.iter, 2);
    assert.deepEqual(lines.slice(2), [
      'Iteration 1, Testing net (#0)',
      'Snapshotting to binary proto file p_iter_2.caffemodel',
      'Snapshotting solver state to binary proto file p_iter_2.solverstate',
      'Optimization stopped early.',
    ]);
    assert.deepEqual(writes, ['p_iter_2.caffemodel', 'p_iter_2.solverstate']);
    solver.dispose();
  });
});
