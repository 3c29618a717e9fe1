// Reads the training curves out of a Caffe training log (the lines of BVLC/caffe src/caffe/solver.cpp, read
// as tools/extra/parse_log.py reads them): ours or Caffe's own, with or without glog's prefix. Like Caffe's
// tools/extra/parse_log.py it matches on the message text only.
import type { TestPass, TrainingCurves } from './curves.js';

// C++ iostream numbers: 6.90776, 1e-05, 4.84049e+09, nan, inf, -inf.
const NUMBER = String.raw`[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|nan|inf)`;

const TRAIN_LOSS = new RegExp(
  String.raw`Iteration (\d+)(?: \([^)]*iter/s[^)]*\))?, loss = (${NUMBER})\s*$`,
  'i',
);
const LEARNING_RATE = new RegExp(String.raw`Iteration (\d+), lr = (${NUMBER})\s*$`, 'i');
const TESTING_NET = /Iteration (\d+), Testing net \(#(\d+)\)/;
const TEST_LOSS = new RegExp(String.raw`Test loss: (${NUMBER})\s*$`, 'i');
const TEST_OUTPUT = new RegExp(
  String.raw`Test net output #\d+: (\S+) = (${NUMBER})(?: \(\* (${NUMBER}) = ${NUMBER} loss\))?\s*$`,
  'i',
);
const TEST_INTERRUPTED = /Test interrupted\./;

/**
 * The curves in a training log. A test pass starts at `Iteration N, Testing net (#i)` and collects the
 * `Test loss:` and `Test net output #k:` lines that follow; a pass cut off by `Test interrupted.` is
 * dropped. An output without Caffe's ` (* w = … loss)` suffix has loss weight 0, as Caffe prints the
 * suffix only for non-zero weights. Lines that say nothing about the curves are skipped.
 */
export function parseTrainingLog(text: string): TrainingCurves {
  const curves: TrainingCurves = { train: [], learningRate: [], tests: [] };
  let pass: TestPass | undefined;
  const finishPass = () => {
    if (pass && (pass.outputs.length > 0 || pass.loss !== undefined)) curves.tests.push(pass);
    pass = undefined;
  };
  for (const line of text.split(/\r?\n/)) {
    let match = TESTING_NET.exec(line);
    if (match) {
      finishPass();
      pass = { netIndex: Number(match[2]), iteration: Number(match[1]), outputs: [] };
      continue;
    }
    match = TEST_OUTPUT.exec(line);
    if (match) {
      const [, name = '', value = '', weight] = match;
      pass?.outputs.push({ name, value: parseNumber(value), lossWeight: weight ? parseNumber(weight) : 0 });
      continue;
    }
    match = TEST_LOSS.exec(line);
    if (match) {
      if (pass) pass.loss = parseNumber(match[1] ?? '');
      continue;
    }
    if (TEST_INTERRUPTED.test(line)) {
      pass = undefined;
      continue;
    }
    match = TRAIN_LOSS.exec(line);
    if (match) {
      finishPass();
      curves.train.push({ iteration: Number(match[1]), loss: parseNumber(match[2] ?? '') });
      continue;
    }
    match = LEARNING_RATE.exec(line);
    if (match) curves.learningRate.push({ iteration: Number(match[1]), rate: parseNumber(match[2] ?? '') });
  }
  finishPass();
  return curves;
}

/** A number as C++ iostreams print it; `nan` and `inf` included. */
function parseNumber(text: string): number {
  const lower = text.toLowerCase();
  if (lower.endsWith('nan')) return Number.NaN;
  if (lower.endsWith('inf')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}
