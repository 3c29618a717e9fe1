// `caffe train --solver=S [--snapshot=X.solverstate|latest] [--weights=A.caffemodel[,B]] [--backend=B]
// [--data-shape=C,H,W] [--metrics-port=P] [--status-file=URI] [--keep-snapshots=K] [--skip-damaged-records]
// [--cache_dir=D]`:
// Caffe's training tool.
// Builds the train and test nets the solver names, trains to max_iter and snapshots (Solver::Solve and
// Solver::Snapshot in BVLC/caffe src/caffe/solver.cpp), printing Caffe's lines to stderr. SIGTERM or
// SIGINT finishes the current iteration, snapshots and exits 0. Optionally serves Prometheus metrics, keeps
// a live status record and deletes old snapshots.
import { randomInt } from 'node:crypto';
import type { Server } from 'node:http';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';

import { initBackend } from '../../backend/index.js';
import { readCgroupLimits } from '../../cgroup-limits.js';
import { BadInputError, ExitCode, UsageError } from '../../contract/errors.js';
import { findLatestSnapshot } from '../../contract/snapshots.js';
import { readBytes, readText, refuseHdf5 } from '../../files.js';
import { setUpLogLines } from '../../net/spec/index.js';
import {
  decodeNetParameter,
  decodeSolverState,
  encodeNetParameter,
  parseSolverPrototxt,
  printSolverPrototxt,
  type SolverParameter,
} from '../../proto/index.js';
import {
  fromSolverStateMessage,
  glogSink,
  type LogSink,
  logLines,
  SNAPSHOT_FORMAT,
  Solver,
  type SolverStateMessage,
  type SolverStateRecord,
  solverSettings,
} from '../../solver/index.js';
import { storageFor } from '../../storage/index.js';
import { MIN_ITERATION_MS, paceFromEnv } from '../../test-pace.js';
import { mallocTuningEnv } from '../../train/malloc-tuning.js';
import {
  closeServer,
  imagesPerIteration,
  metricsPort,
  serveMetrics,
  TrainingMetrics,
} from '../../train/metrics.js';
import { creatingNetLine, testNetSources, trainNetSource } from '../../train/net-sources.js';
import { TrainingNets } from '../../train/nets.js';
import type { ProgressEndpoint } from '../../train/progress-report.js';
import { RunProgress } from '../../train/run-progress.js';
import { listenForStop } from '../../train/signals.js';
import {
  type ProgressRecord,
  ProgressSnapshotWriter,
  pruneSnapshots,
  readProgress,
  snapshotPrefixOf,
} from '../../train/snapshots.js';
import { registerCommand } from '../command.js';
import { dataShapeFlag, parseFlags } from '../flags.js';
import { progressEndpointFlags } from '../progress-flags.js';
import { type RunSize, runSize } from '../resource-flags.js';

const usage =
  'caffe train --solver=S [--snapshot=X.solverstate|latest] [--weights=A.caffemodel[,B.caffemodel...]] ' +
  '[--backend=auto|tensorflow|wasm|cpu] [--data-shape=C,H,W (default: from the first record)] ' +
  '[--metrics-port=P (or BREWERY_METRICS_PORT)] [--status-file=URI] [--keep-snapshots=K] ' +
  '[--skip-damaged-records] [--threads=N (default: the CPU limit)] ' +
  '[--memory_budget=BYTES|900Mi|4Gi (default: the memory limit)] ' +
  '[--cache_dir=D (where S3 shards stream through; default: a temp folder)] ' +
  '[--progress-url=https://... --progress-token=FILE --progress-ca=FILE]';

// Where our own lines say they come from; parsers match on the message, never on this.
const logSource = 'train.ts:1';
/** `--snapshot=latest`: the newest complete snapshot under the solver's snapshot_prefix, if any. */
const LATEST_SNAPSHOT = 'latest';

async function run(argv: string[]): Promise<number> {
  // Once, before anything: this process again with glibc's malloc tuned (train/malloc-tuning.ts). execve
  // keeps the pid and the open descriptors, so a supervisor or a test sees the same process; no signal
  // handler is installed yet.
  const tuning = mallocTuningEnv(process.env, process.platform);
  if (tuning && process.execve) {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      ...process.env,
      ...tuning,
    });
  }
  const { values, positionals } = parseFlags(
    argv,
    {
      solver: { type: 'string' },
      snapshot: { type: 'string' },
      weights: { type: 'string' },
      backend: { type: 'string' },
      'data-shape': { type: 'string' },
      'metrics-port': { type: 'string' },
      'status-file': { type: 'string' },
      'keep-snapshots': { type: 'string' },
      'skip-damaged-records': { type: 'boolean' },
      threads: { type: 'string' },
      memory_budget: { type: 'string' },
      cache_dir: { type: 'string' },
      'progress-url': { type: 'string' },
      'progress-token': { type: 'string' },
      'progress-ca': { type: 'string' },
    },
    usage,
  );
  if (positionals.length > 0)
    throw new UsageError(`unexpected arguments: ${positionals.join(' ')}\nusage: ${usage}`);
  if (!values.solver) throw new UsageError(`--solver is required\nusage: ${usage}`);
  // Caffe compat: Caffe refuses --snapshot with --weights; `--snapshot=latest` may take --weights as
  // what to fine-tune from when the prefix has no snapshot yet (a job's first pod and its replacements
  // are started with the same flags).
  if (values.snapshot && values.snapshot !== LATEST_SNAPSHOT && values.weights) {
    throw new UsageError('give --snapshot to resume training or --weights to fine-tune, but not both');
  }
  const weightFiles = (values.weights ?? '')
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w.length > 0);
  const dataShape = dataShapeFlag(values['data-shape']);
  const port = metricsPort(values['metrics-port'], process.env);
  const keepSnapshots = keepSnapshotsFlag(values['keep-snapshots']);
  const statusFile = values['status-file'];
  const size = runSize({ threads: values.threads, memoryBudget: values.memory_budget }, readCgroupLimits());
  const report = progressEndpointFlags(
    values['progress-url'],
    values['progress-token'],
    values['progress-ca'],
    usage,
  );
  const log: LogSink = glogSink({
    clock: { now: () => Date.now() },
    threadId: process.pid,
    write: (text) => process.stderr.write(`${text}\n`),
  });
  const info = (source: string, message: string) => log({ severity: 'I', source, message });
  const warn = (message: string) => log({ severity: 'W', source: logSource, message });
  // First, which Node.js trains: a log then tells what ran it (the image's node, or the machine's).
  info(logSource, `caffe train on Node.js ${process.version} (${process.platform}-${process.arch})`);
  info(logSource, `Sized to ${size.description}`);

  // Up from the start, so a scrape during start-up (a slow dataset open) finds the process metrics.
  const metrics = port === undefined ? undefined : new TrainingMetrics();
  let server: Server | undefined;
  if (metrics && port !== undefined) {
    // On a host whose pods share one network (the local kubelet) each pod listens on its own address.
    server = await serveMetrics(metrics.registry, port, process.env.BREWERY_LISTEN_HOST ?? '0.0.0.0');
    info(logSource, `Serving Prometheus metrics on port ${port} at /metrics`);
  }
  try {
    await train({
      solverFile: values.solver,
      snapshot: values.snapshot,
      weightFiles,
      backend: values.backend,
      dataShape,
      metrics,
      statusFile,
      report,
      keepSnapshots,
      skipDamagedRecords: values['skip-damaged-records'] ?? false,
      size,
      cacheDir: values.cache_dir,
      log,
      info,
      warn,
    });
  } finally {
    if (server) await closeServer(server);
  }
  // What the run took at most, beside the budget it was sized to (resourceUsage counts in KiB).
  const peak = process.resourceUsage().maxRSS * 1024;
  info(logSource, `Peak resident set size: ${Math.round(peak / 2 ** 20)} MiB (${peak} bytes)`);
  return ExitCode.Ok;
}

interface TrainOptions {
  solverFile: string;
  snapshot: string | undefined;
  weightFiles: string[];
  backend: string | undefined;
  dataShape: ReturnType<typeof dataShapeFlag>;
  metrics: TrainingMetrics | undefined;
  statusFile: string | undefined;
  /** The operator's progress endpoint (--progress-url, --progress-token, --progress-ca). */
  report: ProgressEndpoint | undefined;
  keepSnapshots: number | undefined;
  /**
   * Skip records that do not parse or decode, with a warning naming each, instead of failing with
   * bad input. Off by default: as Caffe (which aborts), a damaged dataset stops the run at once,
   * naming the shard and record, rather than training quietly on less data than asked for.
   */
  skipDamagedRecords: boolean;
  /** Threads and memory budget, from the flags or the cgroup: the loaders are sized from them. */
  size: RunSize;
  /** Where the loaders keep the (at most two) S3 shards each streams through; default: a temp folder. */
  cacheDir: string | undefined;
  log: LogSink;
  info: (source: string, message: string) => void;
  warn: (message: string) => void;
}

async function train(given: TrainOptions): Promise<void> {
  if (given.snapshot && given.snapshot !== LATEST_SNAPSHOT) {
    refuseHdf5(given.snapshot, 'solver states (--snapshot)');
  }
  for (const file of given.weightFiles) refuseHdf5(file, 'weights (--weights)');
  const backend = await initBackend(given.backend);
  const param = await readSolver(given);
  if (param.snapshotFormat === SNAPSHOT_FORMAT.HDF5) {
    // Before the nets load (a dataset open can be slow); solverSettings refuses it too. See trainer/README.md.
    throw new BadInputError(
      'HDF5 snapshots are not supported; use BINARYPROTO (the default)',
      `${given.solverFile}: snapshot_format`,
    );
  }
  const options = given.snapshot === LATEST_SNAPSHOT ? await withLatestSnapshot(given, param) : given;
  const resume = options.snapshot ? await readResume(options.snapshot) : undefined;
  if (resume?.state.learnedNet) refuseHdf5(resume.state.learnedNet, `the learned net of ${resume.file}`);
  const damaged = damagedRecordCounter(options);
  const nets = await buildNets(param, options, resume, damaged);
  options.info('solver.cpp:57', 'Solver scaffolding done.');
  const signals = listenForStop();
  let solver: Solver | undefined;
  try {
    // After the nets, so a missing net file is reported before a bad solver field, as Caffe does.
    const settings = solverSettings(param);
    await loadWeights(nets, options, resume);
    const run = new RunProgress({
      maxIter: settings.maxIter,
      imagesPerIteration: imagesPerIteration(nets.train.spec, settings.iterSize),
      display: settings.display,
      ...(resume ? { resumed: { iteration: resume.state.iter, progress: resume.progress } } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(nets.trainReadsData
        ? { dataWait: { take: () => nets.takeTrainDataWait(), info: options.info } }
        : {}),
      ...(options.statusFile ? { statusFile: options.statusFile } : {}),
      ...(options.report ? { report: options.report } : {}),
      warn: options.warn,
    });
    options.metrics?.runStarted({
      net: nets.train.name,
      solverType: settings.type,
      backend: backend.name,
      maxIter: settings.maxIter,
      iteration: run.iteration,
    });
    solver = makeSolver(param, nets, run, signals, options);
    await solve(solver, resume, options.info);
    // A stop request always leaves a snapshot, even with snapshot_after_train: false.
    if (signals.received && !run.hasSnapshotAt(solver.iter)) await solver.snapshot();
    if (damaged) options.info(logSource, `Skipped ${damaged.count} damaged records`);
    if (!signals.received) options.log(logLines.toolOptimizationDone());
    await run.finished(solver.iter, signals.received !== undefined);
  } finally {
    signals.dispose();
    solver?.dispose();
    await nets.dispose();
  }
}

/**
 * `--snapshot=latest` made concrete: the newest complete snapshot under the solver's snapshot_prefix,
 * found with this process's own credentials, and then no --weights; or none, a fresh start (from
 * --weights when given), said in one line.
 */
async function withLatestSnapshot(options: TrainOptions, param: SolverParameter): Promise<TrainOptions> {
  const prefix = param.snapshotPrefix ?? '';
  if (prefix === '') {
    throw new BadInputError(
      '--snapshot=latest needs a snapshot_prefix to look under',
      `${options.solverFile}: snapshot_prefix`,
    );
  }
  const latest = await findLatestSnapshot(prefix, storageFor(prefix));
  if (!latest) {
    const from =
      options.weightFiles.length > 0 ? `fine-tuning from ${options.weightFiles.join(',')}` : 'starting fresh';
    options.info(logSource, `No complete snapshot under ${prefix}: ${from}`);
    return { ...options, snapshot: undefined };
  }
  options.info(logSource, `Latest complete snapshot under ${prefix}: iteration ${latest.iteration}`);
  if (options.weightFiles.length > 0) {
    options.info(logSource, `Not fine-tuning from ${options.weightFiles.join(',')}: resuming instead`);
  }
  return { ...options, snapshot: latest.solverstate, weightFiles: [] };
}

interface Resume {
  file: string;
  state: SolverStateRecord;
  progress: ProgressRecord | undefined;
}

async function readSolver({ solverFile, info }: TrainOptions): Promise<SolverParameter> {
  const param = parseSolverPrototxt(await readText(solverFile), solverFile);
  info('caffe.cpp:218', `Initializing solver from parameters:\n${printSolverPrototxt(param)}`);
  return param;
}

/** The solver state of --snapshot, and the progress record beside it when there is one. */
async function readResume(file: string): Promise<Resume> {
  const bytes = await readBytes(file);
  const state = fromSolverStateMessage(decodeSolverState(bytes, file) as SolverStateMessage, file);
  return { file, state, progress: await readProgress(file, bytes) };
}

/** With --skip-damaged-records: counts the records the loader skips, warning once for each. */
function damagedRecordCounter({ skipDamagedRecords, warn }: TrainOptions): DamagedRecordCounter | undefined {
  return skipDamagedRecords ? new DamagedRecordCounter(warn) : undefined;
}

/** The count lives here alone: the loader reports each skipped record through skip(). */
class DamagedRecordCounter {
  private skipped = 0;

  constructor(private readonly warn: (message: string) => void) {}

  get count(): number {
    return this.skipped;
  }

  /** The loader skipped a record; `message` names it and says why. */
  skip(message: string): void {
    this.skipped++;
    this.warn(`Skipping damaged record #${this.skipped}: ${message}`);
  }
}

function buildNets(
  param: SolverParameter,
  { solverFile, dataShape, size, cacheDir, info, warn }: TrainOptions,
  resume: Resume | undefined,
  damaged: DamagedRecordCounter | undefined,
): Promise<TrainingNets> {
  const seed = (param.randomSeed ?? -1) >= 0 ? Number(param.randomSeed) : randomInt(2 ** 31);
  return TrainingNets.build(trainNetSource(param, solverFile), testNetSources(param, solverFile), {
    seed,
    dataShape,
    ...(cacheDir ? { cacheDir } : {}),
    // Caffe logs each LMDB it opens (LMDB::Open in src/caffe/util/db_lmdb.cpp); a dataset of shards
    // opens one per shard, as the loader reaches it.
    onShardOpen: (event) => {
      if (event.kind === 'datum') info('db_lmdb.cpp:33', `Opened lmdb ${event.name}`);
    },
    ...(resume?.progress ? { position: resume.progress.position } : {}),
    ...(damaged ? { onDamagedRecord: (message: string) => damaged.skip(message) } : {}),
    // Caffe's set-up lines (Solver::InitTrainNet/InitTestNets, Net::Init): where each net comes from,
    // each layer's tops and shapes, and the memory its activations need.
    onNetSpec: (spec, source, index) => {
      info('solver.cpp:87', creatingNetLine(source, index === 0 ? undefined : index - 1));
      for (const line of setUpLogLines(spec)) info('net.cpp:100', line);
    },
    resources: {
      threads: size.threads,
      ...(size.memoryBudgetBytes !== undefined && { memoryBudgetBytes: size.memoryBudgetBytes }),
      log: (message) => info(logSource, `Data loader ${message}`),
      warn,
    },
  });
}

/** --weights into every net (fine-tuning), then a resumed run's own learned net into the train net. */
async function loadWeights(
  nets: TrainingNets,
  { weightFiles, info }: TrainOptions,
  resume: Resume | undefined,
): Promise<void> {
  for (const file of weightFiles) {
    info('caffe.cpp:250', `Finetuning from ${file}`);
    const weights = decodeNetParameter(await readBytes(file), file);
    for (const net of [nets.train, ...nets.tests]) {
      for (const name of net.copyTrainedLayersFrom(weights, file).ignored) {
        info('net.cpp:1080', `Ignoring source layer ${name}`);
      }
    }
  }
  if (resume?.state.learnedNet) {
    const file = resume.state.learnedNet;
    nets.train.copyTrainedLayersFrom(decodeNetParameter(await readBytes(file), file), file);
  }
}

/** The solver over the nets, telling `run` what happens and snapshotting through the progress writer. */
function makeSolver(
  param: SolverParameter,
  nets: TrainingNets,
  run: RunProgress,
  signals: ReturnType<typeof listenForStop>,
  { log, keepSnapshots, warn, metrics, info }: TrainOptions,
): Solver {
  const pace = paceFromEnv(MIN_ITERATION_MS, 'iteration', warn);
  const reportPeakMemory = peakMemoryReporter(metrics, info);
  const writer = new ProgressSnapshotWriter({
    encodeModel: async () => encodeNetParameter(await nets.train.toNetParameter()),
    position: () => nets.position(),
    lastLoss: () => run.lastLoss(),
    tests: () => run.lastTests(),
    onComplete: async ({ record, progressFile, seconds }) => {
      run.snapshotCompleted(record, seconds);
      const prefix = snapshotPrefixOf(progressFile);
      if (keepSnapshots !== undefined && prefix !== undefined) {
        await pruneSnapshots(prefix, keepSnapshots, record.iteration).catch((error: unknown) =>
          warn(`could not delete old snapshots of ${prefix}: ${(error as Error).message}`),
        );
      }
    },
  });
  return new Solver({
    params: nets.train.learnableParams(),
    param,
    trainNet: {
      name: nets.train.name,
      // A turn of the event loop before each pass, so a signal's handler (and a metrics scrape) runs even
      // on a backend whose reads resolve without one (cpu).
      forwardBackward: async () => {
        await setImmediatePromise();
        await pace?.next();
        run.passStarting();
        return nets.train.forwardBackward();
      },
      forward: () => nets.train.forward(),
    },
    testNets: nets.tests,
    snapshotWriter: writer,
    log,
    requestedAction: () => signals.requestedAction(),
    observer: {
      onIteration: (sample) => {
        run.iterationDone(sample);
        reportPeakMemory(sample.iter);
      },
      onTest: (result) => run.testDone(result),
      onSnapshot: ({ iter }) => run.snapshotStarted(iter),
    },
  });
}

/**
 * The process's peak RSS so far as the caffe_peak_memory_bytes gauge, after every iteration; after the first
 * one this process ran, also as a log line beside Net's "Memory required for data" (which counts the
 * activations alone), so a person can size a pod's memory limit from the log.
 */
function peakMemoryReporter(
  metrics: TrainingMetrics | undefined,
  info: (source: string, message: string) => void,
): (iter: number) => void {
  let logged = false;
  return (iter) => {
    const peak = process.resourceUsage().maxRSS * 1024;
    metrics?.peakMemoryMeasured(peak);
    if (logged) return;
    logged = true;
    const gib = (peak / 2 ** 30).toFixed(2);
    info('solver.cpp:245', `Peak memory after iteration ${iter}: ${peak} bytes (${gib} GiB, process maxRSS)`);
  };
}

/** From the start, or from the resumed state with its smoothed-loss window. */
async function solve(solver: Solver, resume: Resume | undefined, info: TrainOptions['info']): Promise<void> {
  info('caffe.cpp:224', 'Starting Optimization');
  if (!resume) return solver.solve();
  info('caffe.cpp:226', `Resuming from ${resume.file}`);
  const lossWindow = resume.progress?.lossWindow;
  await solver.solve({
    file: resume.file,
    state: { ...resume.state, ...(lossWindow ? { lossWindow } : {}) },
  });
}

/** --keep-snapshots=K: a positive integer, or undefined (keep all). */
function keepSnapshotsFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const keep = Number(value);
  if (!Number.isInteger(keep) || keep < 1) {
    throw new UsageError(`--keep-snapshots: expected a whole number of at least 1, received '${value}'`);
  }
  return keep;
}

registerCommand({
  name: 'train',
  summary: 'train a net with a solver (or resume, or fine-tune)',
  usage,
  run,
});
