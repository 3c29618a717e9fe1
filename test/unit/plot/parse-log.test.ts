import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseTrainingLog } from '../../../trainer/plot/parse-log.js';
import { formatLogLine, type LogLine, logLines } from '../../../trainer/solver/log-lines.js';

const at = Date.UTC(2026, 10, 28, 7, 0, 0);

/** Lines as the trainer prints them: its own builders, with glog's prefix. */
function trainerLog(lines: LogLine[]): string {
  return lines.map((line, i) => formatLogLine(line, at + i, 4242)).join('\n');
}

describe('parseTrainingLog', () => {
  it('reads the train loss, learning rate and test outputs of the lines the trainer prints', () => {
    const log = trainerLog([
      logLines.solving('tiny'),
      logLines.testingNet(0, 0),
      logLines.testOutput(0, { name: 'accuracy', value: 0.125, lossWeight: 0 }),
      logLines.testOutput(1, { name: 'loss', value: 2.25, lossWeight: 1 }),
      logLines.iterationLoss(0, 0, 0, 20, 2.31),
      logLines.trainOutput(0, { name: 'loss', value: 2.31, lossWeight: 1 }),
      logLines.learningRate(0, 0.01),
      logLines.iterationLoss(20, 95.2, 0.21, 20, 1.5),
      logLines.trainOutput(0, { name: 'loss', value: 1.4, lossWeight: 1 }),
      logLines.learningRate(20, 0.001),
      logLines.testingNet(40, 0),
      logLines.testLoss(0.75),
      logLines.testOutput(0, { name: 'accuracy', value: 0.5, lossWeight: 0 }),
      logLines.testOutput(1, { name: 'loss', value: 0.75, lossWeight: 1 }),
      logLines.snapshotModel('snap/tiny_iter_40.caffemodel'),
      logLines.finalLoss(40, 0.5),
      logLines.optimizationDone(),
    ]);
    const curves = parseTrainingLog(log);
    assert.deepEqual(curves.train, [
      { iteration: 0, loss: 2.31 },
      { iteration: 20, loss: 1.5 },
      { iteration: 40, loss: 0.5 },
    ]);
    assert.deepEqual(curves.learningRate, [
      { iteration: 0, rate: 0.01 },
      { iteration: 20, rate: 0.001 },
    ]);
    assert.deepEqual(curves.tests, [
      {
        netIndex: 0,
        iteration: 0,
        outputs: [
          { name: 'accuracy', value: 0.125, lossWeight: 0 },
          { name: 'loss', value: 2.25, lossWeight: 1 },
        ],
      },
      {
        netIndex: 0,
        iteration: 40,
        loss: 0.75,
        outputs: [
          { name: 'accuracy', value: 0.5, lossWeight: 0 },
          { name: 'loss', value: 0.75, lossWeight: 1 },
        ],
      },
    ]);
  });

  it("reads Caffe 1.0's own lines, a second test net, and the pre-1.0 loss line", () => {
    const log = [
      'I0424 11:20:33.047616  4049 solver.cpp:330] Iteration 0, Testing net (#0)',
      'I0424 11:20:33.180946  4049 solver.cpp:397]     Test net output #0: accuracy = 0.0849',
      'I0424 11:20:33.180985  4049 solver.cpp:397]     Test net output #1: loss = 2.36506 (* 1 = 2.36506 loss)',
      'I0424 11:20:33.181000  4049 solver.cpp:330] Iteration 0, Testing net (#1)',
      'I0424 11:20:33.182000  4049 solver.cpp:397]     Test net output #0: accuracy = 0.1',
      'I0424 11:20:33.183421  4049 solver.cpp:218] Iteration 0 (-1.4013e-45 iter/s, 0.135s/100 iters), loss = 2.33372',
      'I0424 11:20:33.183460  4049 solver.cpp:237]     Train net output #0: loss = 2.33372 (* 1 = 2.33372 loss)',
      'I0424 11:20:33.183472  4049 sgd_solver.cpp:105] Iteration 0, lr = 1e-05',
      'I0424 11:20:34.000000  4049 solver.cpp:218] Iteration 100 (nan iter/s, 0.8s/100 iters), loss = nan',
      'I0301 10:00:00.000000  7777 solver.cpp:209] Iteration 200, loss = 0.212',
    ].join('\r\n');
    const curves = parseTrainingLog(log);
    assert.deepEqual(
      curves.train.map((p) => p.iteration),
      [0, 100, 200],
    );
    assert.equal(curves.train[0]?.loss, 2.33372);
    assert.ok(Number.isNaN(curves.train[1]?.loss), 'nan is read as NaN');
    assert.equal(curves.train[2]?.loss, 0.212);
    assert.deepEqual(curves.learningRate, [{ iteration: 0, rate: 1e-5 }]);
    assert.deepEqual(
      curves.tests.map((t) => [t.netIndex, t.iteration, t.outputs.map((o) => `${o.name}=${o.value}`)]),
      [
        [0, 0, ['accuracy=0.0849', 'loss=2.36506']],
        [1, 0, ['accuracy=0.1']],
      ],
    );
  });

  it('reads lines without the glog prefix, as piped through other tools', () => {
    const curves = parseTrainingLog(
      [
        'Iteration 10, Testing net (#0)',
        '    Test net output #0: accuracy = 0.9',
        'Iteration 10 (5 iter/s, 2s/10 iters), loss = 0.3',
      ].join('\n'),
    );
    assert.deepEqual(curves.train, [{ iteration: 10, loss: 0.3 }]);
    assert.deepEqual(curves.tests, [
      { netIndex: 0, iteration: 10, outputs: [{ name: 'accuracy', value: 0.9, lossWeight: 0 }] },
    ]);
  });

  it('drops a test pass cut off by a stop request, and test outputs outside any pass', () => {
    const log = trainerLog([
      logLines.testOutput(0, { name: 'accuracy', value: 0.3, lossWeight: 0 }),
      logLines.testingNet(100, 0),
      logLines.testOutput(0, { name: 'accuracy', value: 0.4, lossWeight: 0 }),
      logLines.testInterrupted(),
      logLines.stoppedEarly(),
    ]);
    assert.deepEqual(parseTrainingLog(log).tests, []);
  });

  it('finds nothing in text that is not a training log', () => {
    const curves = parseTrainingLog('MultiStep Status: Iteration 100, step = 1\nhello\n');
    assert.deepEqual(curves, { train: [], learningRate: [], tests: [] });
  });
});
