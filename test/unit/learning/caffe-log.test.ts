// The log reader the learning test relies on, checked on lines shaped as Caffe prints them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseTrainLog } from './caffe-log.js';

const LOG = `I1128 07:15:10.600000 19543 solver.cpp:330] Iteration 0, Testing net (#0)
I1128 07:15:10.655000 19543 solver.cpp:397]     Test net output #0: accuracy = 0.25
I1128 07:15:10.655000 19543 solver.cpp:397]     Test net output #1: loss = 13.2651 (* 1 = 13.2651 loss)
I1128 07:15:11.741000 19543 solver.cpp:218] Iteration 0 (0 iter/s, 6.01324s/10 iters), loss = 26.9956
I1128 07:15:11.741000 19543 solver.cpp:237]     Train net output #0: loss = 26.9956 (* 1 = 26.9956 loss)
I1128 07:15:11.742000 19543 sgd_solver.cpp:105] Iteration 0, lr = 0.002
I1128 07:15:18.589000 19543 solver.cpp:218] Iteration 10 (1.46042 iter/s, 6.84734s/10 iters), loss = 1e-05
I1128 07:15:29.900000 19543 solver.cpp:330] Iteration 20, Testing net (#0)
I1128 07:15:29.908000 19543 solver.cpp:397]     Test net output #0: accuracy = 0.837209
I1128 07:15:41.728000 19543 solver.cpp:310] Iteration 20, loss = 0.0496421
`;

describe('parseTrainLog', () => {
  it('collects each test pass with its outputs, and each display line loss', () => {
    const log = parseTrainLog(LOG);
    assert.deepEqual(log.tests, [
      { iteration: 0, net: 0, outputs: { accuracy: 0.25, loss: 13.2651 } },
      { iteration: 20, net: 0, outputs: { accuracy: 0.837209 } },
    ]);
    // Train net output lines, lr lines and the final short-form loss line are not display losses.
    assert.deepEqual(log.losses, [
      { iteration: 0, loss: 26.9956 },
      { iteration: 10, loss: 1e-5 },
    ]);
  });

  it('refuses a test output that belongs to no test pass', () => {
    assert.throws(() => parseTrainLog('    Test net output #0: accuracy = 1\n'), /before any "Testing net"/);
  });
});
