// Caffe's training loop (Solver::Step and Solver::Solve, BVLC/caffe src/caffe/solver.cpp) over tfjs
// variables. The net, the test nets, snapshot writing and log output are passed in, so the loop and its
// maths run alone in tests and the same code drives `caffe train`.
import * as tf from '@tensorflow/tfjs-core';

import { BadInputError } from '../contract/errors.js';
import { type SolverParameterFields, type SolverSettings, solverSettings } from './config.js';
import { clipScale, globalL2Norm, normalizeAndRegularize } from './gradients.js';
import { InPlaceSgd } from './in-place-sgd.js';
import { type LogSink, logLines, type OutputValue } from './log-lines.js';
import { learningRate } from './lr-policy.js';
import { SmoothedLoss } from './smoothed-loss.js';
import type { SolverStateRecord } from './state.js';
import { applyUpdate, type UpdateRule, updateRule } from './update-rules/index.js';

/** A learnable parameter blob, in the net's learnable-parameter order (the order of history blobs). */
export interface LearnableParam {
  /** For messages, e.g. `conv1/0`. */
  name: string;
  variable: tf.Variable;
  /** ParamSpec.lr_mult (default 1). */
  lrMult: number;
  /** ParamSpec.decay_mult (default 1). */
  decayMult: number;
}

/** A net output blob after a pass: every element is reported (`Train net output #k`). */
export interface NetOutput {
  name: string;
  values: ArrayLike<number>;
  lossWeight: number;
}

export interface ForwardResult {
  loss: number;
  outputs: NetOutput[];
}

export interface TrainPass extends ForwardResult {
  /** d loss / d param, one per learnable parameter in the same order. The solver disposes them. */
  gradients: tf.Tensor[];
}

export interface TrainNet {
  /** The net's name for "Solving <name>". */
  name: string;
  forwardBackward(): Promise<TrainPass>;
  /** A forward pass only, for the loss Caffe prints after the last update. */
  forward(): Promise<ForwardResult>;
}

export interface TestNet {
  /** One test batch; the net is expected to see the train net's current weights. */
  forward(): Promise<ForwardResult>;
}

/** Writes the two snapshot files; the solver names them and logs Caffe's lines. */
export interface SnapshotWriter {
  writeModel(file: string): Promise<void>;
  writeSolverState(file: string, state: SolverStateRecord): Promise<void>;
}

/** What a signal asked for (Caffe's SolverAction): checked after each update and each test batch. */
export type SolverAction = 'none' | 'snapshot' | 'stop';

/** Hooks for metrics; called after the matching log lines. */
export interface SolverObserver {
  onIteration?(event: { iter: number; loss: number; smoothedLoss: number; rate: number }): void;
  onTest?(event: { iter: number; netIndex: number; loss?: number; outputs: OutputValue[] }): void;
  onSnapshot?(event: { iter: number; modelFile: string; stateFile: string }): void;
}

export interface SolverOptions {
  params: LearnableParam[];
  /** A decoded SolverParameter (absent fields take Caffe's defaults). */
  param: SolverParameterFields;
  trainNet: TrainNet;
  /** One per test_iter entry. */
  testNets?: TestNet[];
  snapshotWriter?: SnapshotWriter;
  log?: LogSink;
  /** Milliseconds since the epoch (fractions allowed); used for iter/s. */
  clock?: { now(): number };
  requestedAction?: () => SolverAction;
  observer?: SolverObserver;
}

export class Solver {
  readonly settings: SolverSettings;
  private readonly rule: UpdateRule;
  private readonly params: LearnableParam[];
  private readonly trainNet: TrainNet;
  private readonly testNets: TestNet[];
  private readonly log: LogSink;
  private readonly clock: { now(): number };
  private readonly requestedAction: () => SolverAction;
  private readonly observer: SolverObserver;
  private readonly snapshotWriter: SnapshotWriter | undefined;
  private readonly smoothedLoss: SmoothedLoss;
  /** history[param][slot]; empty for a parameter whose history the in-place update keeps. */
  private history: tf.Tensor[][];
  /** SGD on the native backend: the update in place (in-place-sgd.ts). */
  private readonly inPlaceSgd: InPlaceSgd | undefined;
  private iterCount = 0;
  private currentStep = 0;
  private carryLossWindow = false;
  private requestedEarlyExit = false;

  constructor(options: SolverOptions) {
    this.settings = solverSettings(options.param);
    this.rule = updateRule(this.settings.type);
    this.params = options.params;
    this.trainNet = options.trainNet;
    this.testNets = options.testNets ?? [];
    this.log = options.log ?? (() => {});
    this.clock = options.clock ?? { now: () => performance.timeOrigin + performance.now() };
    this.requestedAction = options.requestedAction ?? (() => 'none');
    this.observer = options.observer ?? {};
    this.snapshotWriter = options.snapshotWriter;
    this.smoothedLoss = new SmoothedLoss(this.settings.averageLoss);
    if (this.testNets.length !== this.settings.testIter.length) {
      throw new BadInputError(
        `expected one test_iter per test net (${this.testNets.length}), received ${this.settings.testIter.length}`,
        'test_iter',
      );
    }
    if (this.settings.snapshot > 0 && this.settings.snapshotPrefix === '') {
      throw new BadInputError(
        'expected a prefix because snapshot is set, received nothing',
        'snapshot_prefix',
      );
    }
    this.history = this.params.map((p) =>
      Array.from({ length: this.rule.historySlots }, () => tf.zerosLike(p.variable)),
    );
    this.inPlaceSgd = InPlaceSgd.create(this.settings.type);
  }

  /** Updates done so far. */
  get iter(): number {
    return this.iterCount;
  }

  /** Caffe's Solve: trains until max_iter, snapshots at the end, prints the final loss and test. */
  async solve(resume?: { file: string; state: SolverStateRecord }): Promise<void> {
    const s = this.settings;
    if ((s.snapshotAfterTrain || s.snapshot > 0) && !this.snapshotWriter) {
      throw new Error(
        'solve() snapshots (snapshot or snapshot_after_train is set) but no snapshot writer was given',
      );
    }
    this.log(logLines.solving(this.trainNet.name));
    this.log(logLines.learningRatePolicy(s.lrPolicy));
    this.requestedEarlyExit = false;
    if (resume) {
      this.log(logLines.restoring(resume.file));
      this.restoreState(resume.state);
    }
    await this.step(s.maxIter - this.iterCount);
    if (s.snapshotAfterTrain && (s.snapshot === 0 || this.iterCount % s.snapshot !== 0)) {
      await this.snapshot();
    }
    if (this.requestedEarlyExit) {
      this.log(logLines.stoppedEarly());
      return;
    }
    if (s.display > 0 && this.iterCount % s.display === 0) {
      const { loss } = await this.trainNet.forward();
      const smoothed = this.smoothedLoss.add(loss, this.iterCount);
      this.log(logLines.finalLoss(this.iterCount, smoothed));
    }
    if (s.testInterval > 0 && this.iterCount % s.testInterval === 0) await this.testAll();
    this.log(logLines.optimizationDone());
  }

  /** Caffe's Step: `iters` iterations of test (when due), forward/backward, display, update, snapshot. */
  async step(iters: number): Promise<void> {
    const s = this.settings;
    const stopIter = this.iterCount + iters;
    if (this.carryLossWindow) this.carryLossWindow = false;
    else this.smoothedLoss.reset(this.iterCount);
    let timerStart = this.clock.now();
    let iterationsLast = this.iterCount;

    while (this.iterCount < stopIter) {
      const iter = this.iterCount;
      if (s.testInterval > 0 && iter % s.testInterval === 0 && (iter > 0 || s.testInitialization)) {
        await this.testAll();
        if (this.requestedEarlyExit) break;
      }
      const display = s.display > 0 && iter % s.display === 0;
      const { loss, diffs, outputs } = await this.accumulateGradients();
      const smoothed = this.smoothedLoss.add(loss, iter);
      if (display) {
        const now = this.clock.now();
        const lapse = Math.fround((now - timerStart) / 1000);
        const perSecond = Math.fround((iter - iterationsLast) / (lapse !== 0 ? lapse : 1));
        this.log(logLines.iterationLoss(iter, perSecond, lapse, s.display, smoothed));
        timerStart = now;
        iterationsLast = iter;
        flattenOutputs(outputs).forEach((output, k) => {
          this.log(logLines.trainOutput(k, output));
        });
      }
      const rate = await this.applyUpdate(diffs, display);
      this.observer.onIteration?.({ iter, loss, smoothedLoss: smoothed, rate });
      this.iterCount += 1;

      const action = this.requestedAction();
      if ((s.snapshot > 0 && this.iterCount % s.snapshot === 0) || action === 'snapshot')
        await this.snapshot();
      if (action === 'stop') {
        this.requestedEarlyExit = true;
        break;
      }
    }
  }

  /** Writes `<prefix>_iter_<iter>.caffemodel` then `.solverstate` through the snapshot writer. */
  async snapshot(): Promise<void> {
    const writer = this.snapshotWriter;
    if (!writer) throw new Error('the solver has no snapshot writer, so it cannot snapshot');
    // Always binary proto: SolverSettings refuses snapshot_format HDF5 before training (trainer/README.md).
    const modelFile = snapshotFilename(this.settings.snapshotPrefix, this.iterCount, '.caffemodel');
    this.log(logLines.snapshotModel(modelFile));
    await writer.writeModel(modelFile);
    const stateFile = snapshotFilename(this.settings.snapshotPrefix, this.iterCount, '.solverstate');
    this.log(logLines.snapshotSolverState(stateFile));
    await writer.writeSolverState(stateFile, await this.exportState(modelFile));
    this.observer.onSnapshot?.({ iter: this.iterCount, modelFile, stateFile });
  }

  /** The state a resume needs (iter, current_step, history in Caffe's order, the loss window). */
  async exportState(learnedNet?: string): Promise<SolverStateRecord> {
    const history = [];
    for (let slot = 0; slot < this.rule.historySlots; slot++) {
      for (const [i, param] of this.params.entries()) {
        const kept = this.history[i]![slot];
        const blob = kept ?? this.inPlaceSgd?.history(param.variable);
        if (!blob) throw new Error(`no history for ${param.name}`);
        const data = (await blob.data()) as Float32Array;
        if (!kept) blob.dispose();
        history.push({ shape: [...param.variable.shape], data: data.slice() });
      }
    }
    return {
      iter: this.iterCount,
      ...(learnedNet === undefined ? {} : { learnedNet }),
      history,
      currentStep: this.currentStep,
      lossWindow: this.smoothedLoss.exportState(),
    };
  }

  /**
   * Takes over a saved state (the parameters' values are loaded by the caller, from learned_net). History
   * blobs must match the parameters in count and size; their saved shape may differ (legacy 4-D dims).
   */
  restoreState(state: SolverStateRecord): void {
    const slots = this.rule.historySlots;
    const expected = this.params.length * slots;
    if (state.history.length !== expected) {
      throw new BadInputError(
        `incorrect length of history blobs: ${this.settings.type} with ${this.params.length} learnable ` +
          `parameters expects ${expected}, received ${state.history.length}`,
        'solverstate history',
      );
    }
    const restored = this.params.map((param, i) =>
      Array.from({ length: slots }, (_, slot) => {
        const blob = state.history[slot * this.params.length + i]!;
        if (blob.data.length !== param.variable.size) {
          throw new BadInputError(
            `expected ${param.variable.size} values for ${param.name} [${param.variable.shape.join(', ')}], ` +
              `received ${blob.data.length} [${blob.shape.join(', ')}]`,
            `solverstate history[${slot * this.params.length + i}]`,
          );
        }
        return blob.data;
      }),
    );
    this.log(logLines.restoringHistory());
    this.disposeHistory();
    this.history = this.params.map((param, i) =>
      restored[i]!.map((data) => tf.tensor(Float32Array.from(data), param.variable.shape, 'float32')),
    );
    this.iterCount = state.iter;
    this.currentStep = state.currentStep;
    if (state.lossWindow) {
      this.smoothedLoss.restoreState(state.lossWindow);
      this.carryLossWindow = true;
    }
  }

  /** Frees the history tensors. */
  dispose(): void {
    this.disposeHistory();
    this.inPlaceSgd?.dispose();
  }

  private disposeHistory(): void {
    for (const slots of this.history) for (const t of slots) t.dispose();
    this.history = [];
  }

  /** iter_size forward/backward passes; gradients summed, loss averaged (float32, as Caffe). */
  private async accumulateGradients(): Promise<{ loss: number; diffs: tf.Tensor[]; outputs: NetOutput[] }> {
    let loss = 0;
    let diffs: tf.Tensor[] = [];
    let outputs: NetOutput[] = [];
    for (let pass = 0; pass < this.settings.iterSize; pass++) {
      const result = await this.trainNet.forwardBackward();
      if (result.gradients.length !== this.params.length) {
        throw new Error(
          `expected ${this.params.length} gradients (one per parameter), received ${result.gradients.length}`,
        );
      }
      loss = Math.fround(loss + Math.fround(result.loss));
      outputs = result.outputs;
      if (pass === 0) {
        diffs = result.gradients;
      } else {
        const sums = diffs.map((diff, i) => tf.add(diff, result.gradients[i]!));
        tf.dispose([...diffs, ...result.gradients]);
        diffs = sums;
      }
    }
    return { loss: Math.fround(loss / this.settings.iterSize), diffs, outputs };
  }

  /** ApplyUpdate: rate, clip, then per parameter normalise, regularise, update. Disposes `diffs`. */
  private async applyUpdate(diffs: tf.Tensor[], display: boolean): Promise<number> {
    const s = this.settings;
    const lr = learningRate(s, this.iterCount, this.currentStep);
    if (lr.stepAdvanced) this.log(logLines.multistepStatus(this.iterCount, lr.currentStep));
    this.currentStep = lr.currentStep;
    if (display) this.log(logLines.learningRate(this.iterCount, lr.rate));

    let gradients = diffs;
    if (s.clipGradients >= 0) {
      const norm = await globalL2Norm(diffs);
      const scale = clipScale(norm, s.clipGradients);
      if (scale !== undefined) {
        this.log(logLines.gradientClipping(norm, s.clipGradients, scale));
        gradients = tf.tidy(() => diffs.map((diff) => tf.mul(diff, tf.scalar(scale, 'float32'))));
        tf.dispose(diffs);
      }
    }

    for (const [i, param] of this.params.entries()) {
      const history = this.history[i]!;
      const localDecay = Math.fround(s.weightDecay * Math.fround(param.decayMult));
      const localRate = Math.fround(lr.rate * Math.fround(param.lrMult));
      if (this.inPlaceSgd) {
        // sgd.ts's rule, V ← local_rate·diff + momentum·V; W ← W − V, with the same float32 roundings. The
        // history moves into the in-place update, which keeps it from then on (exportState asks for it).
        const diff = normalizeAndRegularize(gradients[i]!, param.variable, { ...s, localDecay });
        this.inPlaceSgd.update(param.variable, history[0], diff, localRate, s.momentum);
        diff.dispose();
        this.history[i] = [];
        continue;
      }
      const newHistory = tf.tidy(() => {
        const diff = normalizeAndRegularize(gradients[i]!, param.variable, { ...s, localDecay });
        const out = applyUpdate(s.type, {
          value: param.variable,
          diff,
          history,
          localRate,
          iter: this.iterCount,
          settings: s,
        });
        param.variable.assign(out.value);
        return out.history;
      });
      tf.dispose(history);
      this.history[i] = newHistory;
    }
    tf.dispose(gradients);
    return lr.rate;
  }

  private async testAll(): Promise<void> {
    for (let id = 0; id < this.testNets.length && !this.requestedEarlyExit; id++) await this.test(id);
  }

  /** Caffe's Test: test_iter forward passes, outputs summed then divided by test_iter. */
  private async test(netIndex: number): Promise<void> {
    const s = this.settings;
    const net = this.testNets[netIndex]!;
    const batches = s.testIter[netIndex]!;
    this.log(logLines.testingNet(this.iterCount, netIndex));
    let loss = 0;
    let scores: OutputValue[] = [];
    for (let batch = 0; batch < batches; batch++) {
      const action = this.requestedAction();
      if (action === 'snapshot') await this.snapshot();
      if (action === 'stop') this.requestedEarlyExit = true;
      if (this.requestedEarlyExit) break;
      const result = await net.forward();
      if (s.testComputeLoss) loss = Math.fround(loss + Math.fround(result.loss));
      const values = flattenOutputs(result.outputs);
      if (batch === 0) scores = values;
      else
        scores = scores.map((score, k) => ({
          ...score,
          value: Math.fround(score.value + (values[k]?.value ?? 0)),
        }));
    }
    if (this.requestedEarlyExit) {
      this.log(logLines.testInterrupted());
      return;
    }
    let meanLoss: number | undefined;
    if (s.testComputeLoss) {
      meanLoss = Math.fround(loss / batches);
      this.log(logLines.testLoss(meanLoss));
    }
    const means = scores.map((score) => ({ ...score, value: Math.fround(score.value / batches) }));
    means.forEach((mean, k) => {
      this.log(logLines.testOutput(k, mean));
    });
    this.observer.onTest?.({
      iter: this.iterCount,
      netIndex,
      ...(meanLoss === undefined ? {} : { loss: meanLoss }),
      outputs: means,
    });
  }
}

/** `<prefix>_iter_<iter><extension>`, iter in plain decimal (Solver::SnapshotFilename, src/caffe/solver.cpp). */
export function snapshotFilename(prefix: string, iter: number, extension: string): string {
  return `${prefix}_iter_${iter}${extension}`;
}

/** Every element of every output blob, numbered across blobs as Caffe's `#k`. */
function flattenOutputs(outputs: readonly NetOutput[]): OutputValue[] {
  return outputs.flatMap(({ name, values, lossWeight }) =>
    Array.from(values, (value) => ({ name, value: Math.fround(value), lossWeight })),
  );
}
