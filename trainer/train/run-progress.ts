// What a `caffe train` run knows about itself as it goes, in one place: the live status record, the last
// test pass of each test net, the last loss, the newest snapshot. The solver's observer, the snapshot
// writer and the status writer all read and change it through the methods here, and each change reaches
// the metrics and the status record as it happens.
import type { LiveProgress } from '../contract/live-status.js';
import { DataWaitWindow } from './data-wait.js';
import { LiveStatusWriter } from './live-status.js';
import { ThroughputWindow, type TrainingMetrics } from './metrics.js';
import { type ProgressEndpoint, postProgress } from './progress-report.js';
import type { ProgressRecord } from './snapshots.js';

type TestResult = ProgressRecord['tests'][number];

export interface RunProgressOptions {
  maxIter: number;
  /** Images one iteration trains on, and the iterations the throughput is averaged over. */
  imagesPerIteration: number;
  display: number;
  /** The snapshot this run resumes from, if any: its iteration, tests and last loss carry on. */
  resumed?: { iteration: number; progress: ProgressRecord | undefined };
  metrics?: TrainingMetrics;
  /**
   * Seconds the train net waited for its data loaders since the last call, and where to log its share at
   * each display (absent: the net reads no loader, nothing to log).
   */
  dataWait?: { take: () => number; info: (source: string, message: string) => void };
  /** Where to keep the live status record, if anywhere. */
  statusFile?: string;
  /** The operator's progress endpoint, sent the same record, if any. */
  report?: ProgressEndpoint;
  warn: (message: string) => void;
}

export class RunProgress {
  private readonly live: LiveProgress;
  private readonly tests = new Map<number, TestResult>();
  private readonly throughput: ThroughputWindow;
  private readonly dataWait = new DataWaitWindow();
  /** The status file and the report to the operator: the same record, each written on its own. */
  private readonly writers: LiveStatusWriter[] = [];
  private loss: number | undefined;
  private iterationStart: number | undefined;
  /** The iteration of the last snapshot the solver started, -1 before any. */
  private snapshotIter = -1;
  /** The record is first written after the first iteration, when there is a loss to report. */
  private iterated = false;

  constructor(private readonly options: RunProgressOptions) {
    const progress = options.resumed?.progress;
    for (const test of progress?.tests ?? []) this.tests.set(test.netIndex, test);
    this.loss = progress?.lastLoss;
    this.throughput = new ThroughputWindow(options.display);
    this.live = {
      state: 'running',
      iteration: options.resumed?.iteration ?? 0,
      maxIter: options.maxIter,
      trainLoss: 0,
      lastLoss: 0,
      learningRate: 0,
      imagesPerSecond: 0,
      tests: [],
      ...(progress
        ? {
            latestSnapshot: {
              iteration: progress.iteration,
              caffemodel: progress.model.file,
              solverstate: progress.solverState.file,
            },
          }
        : {}),
    };
    const record = () => ({ ...this.live, tests: liveTests(this.tests) });
    const warn = options.warn;
    if (options.statusFile) {
      this.writers.push(new LiveStatusWriter({ uri: options.statusFile, progress: record, warn }));
    }
    if (options.report) {
      const { url } = options.report;
      const write = postProgress(options.report);
      this.writers.push(
        new LiveStatusWriter({ uri: url, progress: record, warn, write, what: 'report progress to' }),
      );
    }
  }

  get iteration(): number {
    return this.live.iteration;
  }

  /** The loss of the last iteration (or of the snapshot resumed from), for the progress record. */
  lastLoss(): number | undefined {
    return this.loss;
  }

  /** The last test pass of each test net, for the progress record. */
  lastTests(): TestResult[] {
    return [...this.tests.values()];
  }

  /** A training pass begins; the first of an iteration starts its clock. */
  passStarting(): void {
    this.iterationStart ??= performance.now();
  }

  iterationDone({ iter, loss, smoothedLoss, rate }: IterationDone): void {
    const end = performance.now();
    const seconds = (end - (this.iterationStart ?? end)) / 1000;
    this.iterationStart = undefined;
    const dataWaitSeconds = this.options.dataWait?.take() ?? 0;
    this.dataWait.add(dataWaitSeconds, seconds);
    // With the solver's display lines for this iteration, covering the iterations since the last ones.
    const { display, dataWait } = this.options;
    if (dataWait && display > 0 && iter % display === 0) {
      const line = this.dataWait.line();
      if (line) dataWait.info('blocking_queue.cpp:49', line);
    }
    this.loss = loss;
    this.live.iteration = iter + 1;
    this.live.lastLoss = loss;
    this.live.trainLoss = smoothedLoss;
    this.live.learningRate = rate;
    this.live.imagesPerSecond = this.throughput.add(this.options.imagesPerIteration, seconds);
    this.options.metrics?.iterationDone({
      iteration: this.live.iteration,
      loss,
      smoothedLoss,
      learningRate: rate,
      imagesPerSecond: this.live.imagesPerSecond,
      seconds,
      dataWaitSeconds,
    });
    this.iterated = true;
    for (const writer of this.writers) writer.tick();
  }

  testDone({ iter, netIndex, loss, outputs }: TestDone): void {
    const result = { netIndex, iteration: iter, ...(loss === undefined ? {} : { loss }), outputs };
    this.tests.set(netIndex, result);
    this.options.metrics?.testDone(result);
    if (this.iterated) for (const writer of this.writers) void writer.write();
  }

  snapshotStarted(iter: number): void {
    this.snapshotIter = iter;
  }

  /** Whether the solver has snapshotted at `iter` already. */
  hasSnapshotAt(iter: number): boolean {
    return this.snapshotIter === iter;
  }

  snapshotCompleted(record: ProgressRecord, seconds: number): void {
    this.options.metrics?.snapshotDone(seconds);
    this.live.latestSnapshot = {
      iteration: record.iteration,
      caffemodel: record.model.file,
      solverstate: record.solverState.file,
    };
    if (this.iterated) for (const writer of this.writers) void writer.write();
  }

  /** The run ended at `iter`: by a stop request, or at max_iter. Resolves once the record says so. */
  async finished(iter: number, stopped: boolean): Promise<void> {
    this.live.iteration = iter;
    this.live.state = stopped ? 'stopped' : 'succeeded';
    await Promise.all(this.writers.map((writer) => writer.write()));
  }
}

interface IterationDone {
  iter: number;
  loss: number;
  smoothedLoss: number;
  rate: number;
}

interface TestDone {
  iter: number;
  netIndex: number;
  loss?: number;
  outputs: TestResult['outputs'];
}

/** The status record's test results: name and value of each output (the loss weight stays in the log). */
function liveTests(tests: Map<number, TestResult>): LiveProgress['tests'] {
  return [...tests.values()]
    .sort((a, b) => a.netIndex - b.netIndex)
    .map(({ outputs, ...rest }) => ({
      ...rest,
      outputs: outputs.map(({ name, value }) => ({ name, value })),
    }));
}
