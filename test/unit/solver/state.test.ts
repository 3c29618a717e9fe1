import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../../../trainer/contract/errors.js';
import {
  fromSolverStateMessage,
  type LogLine,
  Solver,
  type SolverParameterFields,
  type SolverStateRecord,
  toSolverStateMessage,
} from '../../../trainer/solver/index.js';
import { INITIAL, makeParams, quadraticNet, referencePass } from './problem.js';
import { assertClose, ReferenceSolver } from './reference.js';

before(async () => {
  await tf.setBackend('cpu');
});

// Every part of the state matters here: Adam's two history slots, multistep's current_step, iter_size
// accumulation, clipping, decay, and a smoothed-loss window longer than one iteration.
const settings: SolverParameterFields = {
  type: 'Adam',
  baseLr: 0.05,
  lrPolicy: 'multistep',
  gamma: 0.5,
  stepvalue: [1, 2, 6],
  momentum: 0.9,
  iterSize: 2,
  clipGradients: 1,
  weightDecay: 0.01,
  averageLoss: 3,
  display: 1,
};

interface Run {
  values: Float32Array[];
  history: Float32Array[];
  lossLines: string[];
}

async function runStraight(iters: number): Promise<Run> {
  const params = makeParams();
  const lines: LogLine[] = [];
  const solver = new Solver({
    params,
    param: settings,
    trainNet: quadraticNet(params),
    log: (l) => lines.push(l),
  });
  await solver.step(iters);
  const run = await finish(solver, params, lines);
  return run;
}

/** Trains `first` iterations, hands the state to a new solver (new variables, as after a restart), trains on. */
async function runResumed(
  first: number,
  second: number,
  viaMessage: boolean,
): Promise<Run & { record: SolverStateRecord }> {
  const params = makeParams();
  const net = quadraticNet(params);
  const solver = new Solver({ params, param: settings, trainNet: net });
  await solver.step(first);
  const exported = await solver.exportState('x_iter_4.caffemodel');
  const record = viaMessage ? fromSolverStateMessage(toSolverStateMessage(exported)) : exported;
  const savedValues = params.map((p) => p.variable.dataSync().slice());
  solver.dispose();
  for (const p of params) p.variable.dispose();

  const resumedParams = makeParams().map((p, i) => {
    p.variable.assign(tf.tensor1d(savedValues[i]!, 'float32'));
    return p;
  });
  const lines: LogLine[] = [];
  const resumed = new Solver({
    params: resumedParams,
    param: settings,
    trainNet: quadraticNet(resumedParams, net.passes),
    log: (l) => lines.push(l),
  });
  resumed.restoreState(record);
  assert.equal(resumed.iter, first);
  await resumed.step(second);
  return { ...(await finish(resumed, resumedParams, lines)), record };
}

async function finish(solver: Solver, params: ReturnType<typeof makeParams>, lines: LogLine[]): Promise<Run> {
  const state = await solver.exportState();
  const run = {
    values: params.map((p) => (p.variable.dataSync() as Float32Array).slice()),
    history: state.history.map((h) => h.data),
    lossLines: lines
      .filter((l) => /^Iteration \d+ \(/.test(l.message))
      .map((l) => l.message.replace(/\(.*\)/, '')),
  };
  solver.dispose();
  for (const p of params) p.variable.dispose();
  return run;
}

describe('exact resume', () => {
  it('4 iterations, export, restore into a new solver, 4 more: bit-identical to 8 straight', async () => {
    const straight = await runStraight(8);
    const resumed = await runResumed(4, 4, false);
    assert.deepEqual(resumed.values, straight.values);
    assert.deepEqual(resumed.history, straight.history);
    // The smoothed loss continues too: the last four display lines are the same.
    assert.deepEqual(resumed.lossLines, straight.lossLines.slice(4));
    assert.equal(resumed.record.currentStep, 2, 'multistep passed stepvalues 1 and 2 before the export');
  });

  it('through the SolverState message (no loss window, as from a .solverstate) the parameters are bit-identical', async () => {
    const straight = await runStraight(8);
    const resumed = await runResumed(4, 4, true);
    assert.equal(resumed.record.lossWindow, undefined);
    assert.equal(resumed.record.learnedNet, 'x_iter_4.caffemodel');
    assert.deepEqual(resumed.values, straight.values);
    assert.deepEqual(resumed.history, straight.history);
  });
});

describe('exportState', () => {
  it("lays out history as Caffe does: every parameter's first blob, then every parameter's second", async () => {
    const params = makeParams();
    const param = { type: 'AdaDelta', baseLr: 1, lrPolicy: 'fixed', momentum: 0.95, delta: 1e-6 } as const;
    const solver = new Solver({ params, param, trainNet: quadraticNet(params) });
    await solver.step(3);
    const state = await solver.exportState();
    const reference = new ReferenceSolver(
      param,
      INITIAL.map((value) => ({ value: [...value], lrMult: 1, decayMult: 1 })),
    );
    for (let pass = 0; pass < 3; pass++)
      reference.update(
        referencePass(
          reference.params.map((p) => p.value),
          pass,
        ).grads,
      );
    assert.deepEqual(
      state.history.map((h) => h.shape),
      [[3], [2], [3], [2]],
    );
    const expected = [
      reference.history[0]![0]!,
      reference.history[0]![1]!,
      reference.history[1]![0]!,
      reference.history[1]![1]!,
    ];
    state.history.forEach((blob, k) => {
      assertClose(blob.data, expected[k]!, `history blob ${k}`);
    });
    assert.equal(state.iter, 3);
    solver.dispose();
    for (const p of params) p.variable.dispose();
  });
});

describe('restoreState', () => {
  it('refuses a history with the wrong number of blobs, naming both counts', () => {
    const params = makeParams();
    const solver = new Solver({
      params,
      param: { type: 'Adam', lrPolicy: 'fixed' },
      trainNet: quadraticNet(params),
    });
    const blob = { shape: [3], data: new Float32Array(3) };
    assert.throws(
      () => solver.restoreState({ iter: 5, currentStep: 0, history: [blob, blob] }),
      (error: unknown) =>
        error instanceof BadInputError &&
        /incorrect length of history blobs: Adam with 2 learnable parameters expects 4, received 2/.test(
          error.message,
        ),
    );
    assert.throws(
      () => solver.restoreState({ iter: 5, currentStep: 0, history: [blob, blob, blob, blob] }),
      /history\[1\]: expected 2 values for p1 \[2\], received 3 \[3\]/,
    );
    assert.equal(solver.iter, 0, 'a refused state changes nothing');
    solver.dispose();
    for (const p of params) p.variable.dispose();
  });
});

describe('SolverState messages', () => {
  it('writes iter, learned_net, history with shape and data, and current_step', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    assert.deepEqual(
      toSolverStateMessage({
        iter: 10000,
        learnedNet: 'x_iter_10000.caffemodel',
        history: [{ shape: [2, 3], data }],
        currentStep: 0,
      }),
      {
        iter: 10000,
        learnedNet: 'x_iter_10000.caffemodel',
        history: [{ shape: { dim: [2, 3] }, data }],
        currentStep: 0,
      },
    );
  });

  it('reads legacy 4-D blobs and double_data the way Caffe does', () => {
    const record = fromSolverStateMessage({
      iter: 7,
      history: [
        { num: 1, channels: 1, height: 2, width: 2, data: [1, 2, 3, 4], shape: { dim: [9] } },
        { data: [], doubleData: [0.5, 0.25], shape: { dim: [2] } },
      ],
    });
    assert.deepEqual(record, {
      iter: 7,
      currentStep: 0,
      history: [
        { shape: [1, 1, 2, 2], data: Float32Array.from([1, 2, 3, 4]) },
        { shape: [2], data: Float32Array.from([0.5, 0.25]) },
      ],
    });
  });

  it('refuses a blob whose data does not fill its shape', () => {
    assert.throws(
      () => fromSolverStateMessage({ history: [{ data: [1, 2], shape: { dim: [3] } }] }, 'x.solverstate'),
      /x.solverstate: history\[0\]: expected 3 values for shape \[3\], received 2/,
    );
  });
});
