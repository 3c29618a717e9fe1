// The data-wait share `caffe train` logs at each display.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DataWaitWindow, dataWaitLine } from '../../../trainer/train/data-wait.js';

describe('dataWaitLine', () => {
  it("gives the share of the interval's time spent waiting, and both times", () => {
    assert.equal(dataWaitLine(0.05, 2, 20), 'Waiting for data: 2.5% of 20 iterations (0.050 s of 2.000 s)');
  });
  it('says 0.0% for an interval with no time, and one iteration in the singular', () => {
    assert.equal(dataWaitLine(0, 0, 1), 'Waiting for data: 0.0% of 1 iteration (0.000 s of 0.000 s)');
  });
});

describe('DataWaitWindow', () => {
  it('sums the iterations since the last line, then starts again', () => {
    const window = new DataWaitWindow();
    assert.equal(window.line(), undefined);
    window.add(0.1, 1);
    window.add(0.3, 1);
    assert.equal(window.line(), 'Waiting for data: 20.0% of 2 iterations (0.400 s of 2.000 s)');
    window.add(0, 0.5);
    assert.equal(window.line(), 'Waiting for data: 0.0% of 1 iteration (0.000 s of 0.500 s)');
  });
});
