import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatDefaultStream, formatLogLine, glogSink, logLines } from '../../../trainer/solver/log-lines.js';

describe('formatDefaultStream', () => {
  it('prints numbers as C++ iostreams do by default (%g, 6 significant digits)', () => {
    const cases: [number, string][] = [
      [0.01, '0.01'],
      [0.001, '0.001'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [Math.log(1000), '6.90776'],
      [0.57412, '0.57412'],
      [4840490000, '4.84049e+09'],
      [999999.5, '1e+06'],
      [123456, '123456'],
      [1234567, '1.23457e+06'],
      [2, '2'],
      [-0.5, '-0.5'],
      [0, '0'],
      [1.5e-300, '1.5e-300'],
      [Number.NaN, 'nan'],
      [Number.POSITIVE_INFINITY, 'inf'],
    ];
    for (const [value, text] of cases) assert.equal(formatDefaultStream(value), text, `formatting ${value}`);
  });
});

describe('formatLogLine', () => {
  it("adds glog's prefix: severity, MMDD, time to the microsecond, thread id padded to 5, file:line", () => {
    const at = Date.UTC(2017, 3, 24, 11, 22, 55) + 578.083;
    const line = formatLogLine(logLines.finalLoss(10000, 0.00350995), at, 4049);
    // From a published Caffe 1.0 LeNet training log.
    assert.equal(line, 'I0424 11:22:55.578083  4049 solver.cpp:310] Iteration 10000, loss = 0.00350995');
  });

  it('writes through a sink with the clock it was given', () => {
    const written: string[] = [];
    const sink = glogSink({
      clock: { now: () => Date.UTC(2026, 10, 28, 4, 10, 11) + 123.456 },
      threadId: 12345,
      write: (t) => written.push(t),
    });
    sink(logLines.iterationLoss(20, 3.5, 5.71429, 20, 6.9));
    assert.deepEqual(written, [
      'I1128 04:10:11.123456 12345 solver.cpp:218] Iteration 20 (3.5 iter/s, 5.71429s/20 iters), loss = 6.9',
    ]);
  });
});

describe('logLines', () => {
  it('words the training lines as a published Caffe 1.0 log does', () => {
    const texts = [
      logLines.iterationLoss(9900, 14.7601, 6.775, 100, 0.00511876),
      logLines.trainOutput(0, { name: 'loss', value: 0.00511864, lossWeight: 1 }),
      logLines.learningRate(9900, 0.00596843),
      logLines.snapshotModel('caffemodel/lenet_iter_10000.caffemodel'),
      logLines.snapshotSolverState('caffemodel/lenet_iter_10000.solverstate'),
      logLines.finalLoss(10000, 0.00350995),
      logLines.testingNet(10000, 0),
      logLines.testOutput(0, { name: 'accuracy', value: 0.9912, lossWeight: 0 }),
      logLines.testOutput(1, { name: 'loss', value: 0.0277065, lossWeight: 1 }),
      logLines.optimizationDone(),
      logLines.toolOptimizationDone(),
    ].map((line) => `${line.source}] ${line.message}`);
    assert.deepEqual(texts, [
      'solver.cpp:218] Iteration 9900 (14.7601 iter/s, 6.775s/100 iters), loss = 0.00511876',
      'solver.cpp:237]     Train net output #0: loss = 0.00511864 (* 1 = 0.00511864 loss)',
      'sgd_solver.cpp:105] Iteration 9900, lr = 0.00596843',
      'solver.cpp:447] Snapshotting to binary proto file caffemodel/lenet_iter_10000.caffemodel',
      'sgd_solver.cpp:273] Snapshotting solver state to binary proto file caffemodel/lenet_iter_10000.solverstate',
      'solver.cpp:310] Iteration 10000, loss = 0.00350995',
      'solver.cpp:330] Iteration 10000, Testing net (#0)',
      'solver.cpp:397]     Test net output #0: accuracy = 0.9912',
      'solver.cpp:397]     Test net output #1: loss = 0.0277065 (* 1 = 0.0277065 loss)',
      'solver.cpp:315] Optimization Done.',
      'caffe.cpp:259] Optimization Done.',
    ]);
  });

  it("matches the test output lines of Caffe's Solver::Test (src/caffe/solver.cpp) for CaffeNet", () => {
    assert.equal(
      logLines.testOutput(0, { name: 'accuracy', value: 0.001, lossWeight: 0 }).message,
      '    Test net output #0: accuracy = 0.001',
    );
    assert.equal(
      logLines.testOutput(1, { name: 'loss', value: Math.log(1000), lossWeight: 1 }).message,
      '    Test net output #1: loss = 6.90776 (* 1 = 6.90776 loss)',
    );
  });

  it('words the rarer lines: multistep, clipping, test loss, stops and resumes', () => {
    const messages = [
      logLines.multistepStatus(200, 2),
      logLines.gradientClipping(12.5, 10, 0.8),
      logLines.testLoss(0.25),
      logLines.testInterrupted(),
      logLines.stoppedEarly(),
      logLines.solving('CaffeNet'),
      logLines.learningRatePolicy('step'),
      logLines.restoring('x_iter_10.solverstate'),
      logLines.snapshotModel('x_iter_10.caffemodel.h5', true),
    ].map((line) => line.message);
    assert.deepEqual(messages, [
      'MultiStep Status: Iteration 200, step = 2',
      'Gradient clipping: scaling down gradients (L2 norm 12.5 > 10) by scale factor 0.8',
      'Test loss: 0.25',
      'Test interrupted.',
      'Optimization stopped early.',
      'Solving CaffeNet',
      'Learning Rate Policy: step',
      'Restoring previous solver status from x_iter_10.solverstate',
      'Snapshotting to HDF5 file x_iter_10.caffemodel.h5',
    ]);
  });
});
