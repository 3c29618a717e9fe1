// What `caffe plot` draws, whatever it was read from: the training loss, and the outputs of each test
// pass, by iteration. Pure: parse-log.ts and sources.ts fill it, series() turns it into labelled points.

export interface TrainPoint {
  iteration: number;
  /** The smoothed loss Caffe prints on its display line. */
  loss: number;
}

export interface LearningRatePoint {
  iteration: number;
  rate: number;
}

export interface TestOutput {
  name: string;
  value: number;
  /** The blob's loss weight when the source says (a log's ` (* w = … loss)` suffix); absent if unknown. */
  lossWeight?: number;
}

export interface TestPass {
  netIndex: number;
  iteration: number;
  /** Caffe's `Test loss:` (printed only with test_compute_loss). */
  loss?: number;
  outputs: TestOutput[];
}

export interface TrainingCurves {
  train: TrainPoint[];
  learningRate: LearningRatePoint[];
  tests: TestPass[];
}

/** One point of a named curve; `axis` says which y axis it belongs on. */
export interface SeriesPoint {
  series: string;
  axis: 'loss' | 'accuracy';
  iteration: number;
  value: number;
}

export function emptyCurves(): TrainingCurves {
  return { train: [], learningRate: [], tests: [] };
}

/**
 * Joins curves from several sources. Where two give the same point (a log and the progress records of
 * the same run, or a resumed run's log repeating iterations), the later source wins.
 */
export function mergeCurves(parts: TrainingCurves[]): TrainingCurves {
  const train = new Map<number, TrainPoint>();
  const rates = new Map<number, LearningRatePoint>();
  const tests = new Map<string, TestPass>();
  for (const part of parts) {
    for (const point of part.train) train.set(point.iteration, point);
    for (const point of part.learningRate) rates.set(point.iteration, point);
    for (const pass of part.tests) tests.set(`${pass.netIndex}/${pass.iteration}`, pass);
  }
  const byIteration = (a: { iteration: number }, b: { iteration: number }) => a.iteration - b.iteration;
  return {
    train: [...train.values()].sort(byIteration),
    learningRate: [...rates.values()].sort(byIteration),
    tests: [...tests.values()].sort((a, b) => a.netIndex - b.netIndex || a.iteration - b.iteration),
  };
}

/**
 * The curves as labelled points: `train loss`, `test loss` and one `test <output>` curve per test output
 * that is not a loss (accuracy, top-5, …) on the second axis. Test net #1 and later are named
 * `test#1 loss`, `test#1 accuracy`. Points that are not finite (a diverged `loss = nan`) are left out:
 * they have no place on an axis.
 */
export function series(curves: TrainingCurves): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  const add = (series: string, axis: SeriesPoint['axis'], iteration: number, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) out.push({ series, axis, iteration, value });
  };
  for (const point of curves.train) add('train loss', 'loss', point.iteration, point.loss);
  for (const pass of curves.tests) {
    const prefix = pass.netIndex === 0 ? 'test' : `test#${pass.netIndex}`;
    add(`${prefix} loss`, 'loss', pass.iteration, testLoss(pass));
    for (const output of pass.outputs) {
      if (!isLoss(output)) add(`${prefix} ${output.name}`, 'accuracy', pass.iteration, output.value);
    }
  }
  return out;
}

/**
 * A test pass's loss: Caffe's `Test loss:` when printed, else the weighted sum of its loss outputs (what
 * Caffe's own test loss is), or undefined when the pass reports no loss.
 */
export function testLoss(pass: TestPass): number | undefined {
  if (pass.loss !== undefined) return pass.loss;
  const losses = pass.outputs.filter(isLoss);
  if (losses.length === 0) return undefined;
  return losses.reduce((sum, output) => sum + (output.lossWeight ?? 1) * output.value, 0);
}

/** An output is a loss when it carries a loss weight; without one known, when its name says so. */
export function isLoss(output: TestOutput): boolean {
  if (output.lossWeight !== undefined) return output.lossWeight !== 0;
  return /loss/i.test(output.name);
}
