// Caffe's training log lines, worded and numbered exactly as Caffe 1.0 prints them through glog, so tools
// written for Caffe logs (tools/extra/parse_log.py, plot scripts) read ours unchanged.
//
// A line is built as data (source file:line and message) by the functions below and turned into text by
// formatLogLine, which adds glog's prefix. The solver only builds lines; whoever owns stderr writes them.

import { glogLine, type Severity } from '../glog.js';

export type { Severity };

/** One log line before formatting: where Caffe prints it from, and what it says. */
export interface LogLine {
  severity: Severity;
  /** Caffe's `file.cpp:line`, e.g. `solver.cpp:218`. */
  source: string;
  message: string;
}

/** Receives the solver's log lines, in emission order. */
export type LogSink = (line: LogLine) => void;

/** The net output values a display or test line reports. */
export interface OutputValue {
  /** The output blob's name (`loss`, `accuracy`). */
  name: string;
  value: number;
  /** The blob's loss weight; non-zero adds Caffe's ` (* w = w·value loss)` suffix. */
  lossWeight: number;
}

// Caffe 1.0's source positions. The ones marked "seen" appear in published Caffe 1.0 training logs; the
// others are derived from the 1.0 source layout. Parsers match on the message, never on these.
const At = {
  solving: 'solver.cpp:272',
  lrPolicy: 'solver.cpp:273',
  restoring: 'solver.cpp:279',
  stoppedEarly: 'solver.cpp:294',
  iterationLoss: 'solver.cpp:218', // seen
  trainOutput: 'solver.cpp:237', // seen
  finalLoss: 'solver.cpp:310', // seen
  optimizationDone: 'solver.cpp:315', // seen
  testingNet: 'solver.cpp:330', // seen
  testInterrupted: 'solver.cpp:379',
  testLoss: 'solver.cpp:384',
  testOutput: 'solver.cpp:397', // seen
  snapshotModel: 'solver.cpp:447', // seen
  snapshotModelHdf5: 'solver.cpp:457',
  multistep: 'sgd_solver.cpp:46',
  clipping: 'sgd_solver.cpp:93',
  learningRate: 'sgd_solver.cpp:105', // seen
  snapshotState: 'sgd_solver.cpp:273', // seen
  snapshotStateHdf5: 'sgd_solver.cpp:281',
  restoringHistory: 'sgd_solver.cpp:318',
  toolOptimizationDone: 'caffe.cpp:259', // seen
} as const;

// ---- message builders, in the order `caffe train` emits them ----

export const logLines = {
  solving: (netName: string) => info(At.solving, `Solving ${netName}`),
  learningRatePolicy: (policy: string) => info(At.lrPolicy, `Learning Rate Policy: ${policy}`),
  restoring: (file: string) => info(At.restoring, `Restoring previous solver status from ${file}`),
  restoringHistory: () => info(At.restoringHistory, 'SGDSolver: restoring history'),

  testingNet: (iter: number, netIndex: number) =>
    info(At.testingNet, `Iteration ${iter}, Testing net (#${netIndex})`),
  testLoss: (loss: number) => info(At.testLoss, `Test loss: ${formatFloat(loss)}`),
  testOutput: (index: number, output: OutputValue) =>
    info(At.testOutput, `    Test net output #${index}: ${describeOutput(output)}`),
  testInterrupted: () => info(At.testInterrupted, 'Test interrupted.'),

  /** `Iteration N (X iter/s, Ys/D iters), loss = L` (the Caffe 1.0 form). */
  iterationLoss: (iter: number, itersPerSecond: number, seconds: number, display: number, loss: number) =>
    info(
      At.iterationLoss,
      `Iteration ${iter} (${formatFloat(itersPerSecond)} iter/s, ${formatFloat(seconds)}s/${display} iters), ` +
        `loss = ${formatFloat(loss)}`,
    ),
  trainOutput: (index: number, output: OutputValue) =>
    info(At.trainOutput, `    Train net output #${index}: ${describeOutput(output)}`),
  learningRate: (iter: number, rate: number) =>
    info(At.learningRate, `Iteration ${iter}, lr = ${formatFloat(rate)}`),
  multistepStatus: (iter: number, step: number) =>
    info(At.multistep, `MultiStep Status: Iteration ${iter}, step = ${step}`),
  gradientClipping: (norm: number, clip: number, scale: number) =>
    info(
      At.clipping,
      `Gradient clipping: scaling down gradients (L2 norm ${formatFloat(norm)} > ${formatFloat(clip)}) ` +
        `by scale factor ${formatFloat(scale)}`,
    ),

  snapshotModel: (file: string, hdf5 = false) =>
    hdf5
      ? info(At.snapshotModelHdf5, `Snapshotting to HDF5 file ${file}`)
      : info(At.snapshotModel, `Snapshotting to binary proto file ${file}`),
  snapshotSolverState: (file: string, hdf5 = false) =>
    hdf5
      ? info(At.snapshotStateHdf5, `Snapshotting solver state to HDF5 file ${file}`)
      : info(At.snapshotState, `Snapshotting solver state to binary proto file ${file}`),

  /** The short pre-1.0 form Caffe still prints after the last update: `Iteration N, loss = L`. */
  finalLoss: (iter: number, loss: number) =>
    info(At.finalLoss, `Iteration ${iter}, loss = ${formatFloat(loss)}`),
  stoppedEarly: () => info(At.stoppedEarly, 'Optimization stopped early.'),
  optimizationDone: () => info(At.optimizationDone, 'Optimization Done.'),
  /** The second `Optimization Done.`, printed by the `caffe` tool after the solver's. */
  toolOptimizationDone: () => info(At.toolOptimizationDone, 'Optimization Done.'),
};

/** `name = value`, plus ` (* w = w·value loss)` for a blob with a loss weight. */
function describeOutput({ name, value, lossWeight }: OutputValue): string {
  const text = `${name} = ${formatFloat(value)}`;
  if (lossWeight === 0) return text;
  const weighted = Math.fround(Math.fround(lossWeight) * Math.fround(value));
  return `${text} (* ${formatFloat(lossWeight)} = ${formatFloat(weighted)} loss)`;
}

function info(source: string, message: string): LogLine {
  return { severity: 'I', source, message };
}

// ---- formatting ----

/** glog's line for a solver LogLine (see trainer/glog.ts). */
export function formatLogLine(line: LogLine, epochMs: number, threadId: number): string {
  return glogLine(line.severity, line.source, line.message, epochMs, threadId);
}

/** A float32 value as C++ iostreams print it by default (Caffe's numbers are floats). */
export function formatFloat(value: number): string {
  return formatDefaultStream(Math.fround(value));
}

/**
 * C++ iostream default formatting, i.e. printf `%g` with 6 significant digits: fixed or exponent form,
 * whichever %g picks, trailing zeros dropped, exponent at least two digits (`1e-05`, `4.84049e+09`).
 * (Exact decimal ties, which need a value with few binary digits, round half up here and half even in
 * glibc; Caffe's values practically never hit one.)
 */
export function formatDefaultStream(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const precision = 6;
  const exponential = value.toExponential(precision - 1); // exponent after rounding, as %g decides
  const [mantissa = '', exponentText = '0'] = exponential.split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= precision) {
    const sign = exponent < 0 ? '-' : '+';
    return `${trimZeros(mantissa)}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return trimZeros(value.toFixed(Math.max(0, precision - 1 - exponent)));
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** A LogSink that prints glog lines: `write` gets each formatted line without a newline. */
export function glogSink(options: {
  clock: { now(): number };
  threadId: number;
  write: (text: string) => void;
}): LogSink {
  return (line) => options.write(formatLogLine(line, options.clock.now(), options.threadId));
}
