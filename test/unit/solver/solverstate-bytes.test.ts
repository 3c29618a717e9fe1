// The solver state through trainer/proto's binary codec: the bytes Caffe writes
// (SGDSolver::SnapshotSolverStateToBinaryProto in BVLC/caffe src/caffe/solvers/sgd_solver.cpp; test vector)
// and back, so a .solverstate crosses between Caffe and us unchanged.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { decodeSolverState, encodeSolverState } from '../../../trainer/proto/index.js';
import { fromSolverStateMessage, toSolverStateMessage } from '../../../trainer/solver/index.js';

const CAFFE_BYTES =
  '08904e' +
  '1217' +
  '785f697465725f31303030302e63616666656d6f64656c' +
  '1a0b' +
  '2a0400000000' +
  '3a030a0101' +
  '2000';

describe('a solver state as .solverstate bytes', () => {
  it('encodes to the bytes Caffe writes for iter 10000, one history blob, current_step 0', () => {
    const message = toSolverStateMessage({
      iter: 10000,
      learnedNet: 'x_iter_10000.caffemodel',
      history: [{ shape: [1], data: new Float32Array([0]) }],
      currentStep: 0,
    });
    assert.equal(Buffer.from(encodeSolverState(message)).toString('hex'), CAFFE_BYTES);
  });

  it('decodes Caffe’s bytes into the record the solver restores from', () => {
    const record = fromSolverStateMessage(decodeSolverState(Buffer.from(CAFFE_BYTES, 'hex')));
    assert.deepEqual(record, {
      iter: 10000,
      learnedNet: 'x_iter_10000.caffemodel',
      history: [{ shape: [1], data: new Float32Array([0]) }],
      currentStep: 0,
    });
  });
});
