// Reads the numbers a person reads in a `caffe train` log (Solver::Step and Solver::Test in BVLC/caffe
// src/caffe/solver.cpp): the test passes with their outputs, and the loss of each display line. Matches on
// the message text only, as Caffe's own tools/extra/parse_log.py does, so the glog prefix and source line
// numbers may be anything.

export interface TestPass {
  iteration: number;
  net: number;
  /** Output blob name → value, e.g. accuracy and loss. */
  outputs: Record<string, number>;
}

export interface DisplayLoss {
  iteration: number;
  /** The smoothed loss (mean over the solver's average_loss iterations). */
  loss: number;
}

export interface TrainLog {
  tests: TestPass[];
  losses: DisplayLoss[];
}

const TESTING = /Iteration (\d+), Testing net \(#(\d+)\)/;
const TEST_OUTPUT = /Test net output #\d+: (\S+) = (\S+)/;
const DISPLAY = /Iteration (\d+) \([^)]*\), loss = (\S+)/;

export function parseTrainLog(text: string): TrainLog {
  const tests: TestPass[] = [];
  const losses: DisplayLoss[] = [];
  let current: TestPass | undefined;
  for (const line of text.split('\n')) {
    const testing = TESTING.exec(line);
    if (testing) {
      current = { iteration: Number(testing[1]), net: Number(testing[2]), outputs: {} };
      tests.push(current);
      continue;
    }
    const output = TEST_OUTPUT.exec(line);
    if (output) {
      if (!current) throw new Error(`a test output before any "Testing net" line: ${line}`);
      current.outputs[output[1]!] = Number(output[2]);
      continue;
    }
    const display = DISPLAY.exec(line);
    if (display) losses.push({ iteration: Number(display[1]), loss: Number(display[2]) });
  }
  return { tests, losses };
}
